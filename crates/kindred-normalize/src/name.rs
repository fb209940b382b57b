//! Personal names: NFKC, whitespace folded, Latin names in title case
//! (only when typed all upper or all lower case), CJK names intact and
//! without inner spaces.

use crate::surname::{
    family_name_len, is_cjk_family_name, is_kana, COMPOUND_SURNAMES, ITERATION_MARK,
    KOREAN_COMPOUND_SURNAMES, KOREAN_RARE_FIRST_COMPOUNDS,
};
use crate::text::{fold, is_cjk, Rejected};

const JUNK_NAMES: &[&str] = &[
    "test",
    "n/a",
    "none",
    "null",
    "unknown",
    "customer",
    "guest",
    "member",
    "anonymous",
    "-",
    "x",
    "xx",
    "xxx",
    "顾客",
    "客户",
    "会员",
    "先生",
    "女士",
    "小姐",
    "匿名",
    "无",
    "测试",
    "散客",
    "游客",
    "用户",
    "未知",
    "佚名",
    "无名氏",
    "匿名用户",
    "测试用户",
    "非会员",
    "お客様",
    "お客さま",
    "ゲスト",
    "고객",
    "고객님",
    "손님",
    "비회원",
    "회원",
    "회원님",
    // Receipts' legal placeholders and point-of-sale defaults in other
    // markets: Argentina's and Ecuador's final consumer, Mexico's CFDI
    // general public, a Spanish or Portuguese till's customer, KiotViet's
    // walk-in customer; a CRM's not-available.
    "consumidor final",
    "publico en general",
    "público en general",
    "publico general",
    "cliente",
    "cliente final",
    "khách lẻ",
    "khach le",
    "n.a.",
    "n.a",
];

/// Words a till or a form puts where it has no name (`Walk-in Customer`,
/// `Valued Customer`, `Guest User`, `Unknown Unknown`): a name made only
/// of these and [`PLACEHOLDER_FILLERS`], with one of these among them, is
/// junk. Kept, it would become the golden name of everyone it was typed
/// for, and its records would rate alike to one another.
const PLACEHOLDER_WORDS: &[&str] = &[
    "anonymous",
    "client",
    "customer",
    "dummy",
    "firstname",
    "guest",
    "lastname",
    "member",
    "name",
    "noname",
    "none",
    "null",
    "shopper",
    "test",
    "unknown",
    "user",
    "visitor",
    "walkin",
];

/// Words that are placeholders only beside a [`PLACEHOLDER_WORDS`] word
/// (`Walk-in`, `Valued`, `Cash`): alone, some are names (`In`, `Cash`).
/// (Not `a`: `A Guest` is an initial and a family name.)
const PLACEHOLDER_FILLERS: &[&str] = &[
    "cash", "default", "demo", "in", "new", "no", "online", "regular", "sale", "sales", "sample",
    "store", "valued", "walk", "web",
];

/// Two fillers that together are a placeholder, as a till writes them
/// alone (`Walk-in`, `WALK IN`, `Cash Sale`).
const PLACEHOLDER_PAIRS: &[(&str, &str)] = &[("walk", "in"), ("cash", "sale"), ("cash", "sales")];

/// Whether a name (lower case) is made of placeholder words only
/// ([`PLACEHOLDER_WORDS`], or a [`PLACEHOLDER_PAIRS`] pair among fillers).
fn is_placeholder(lower: &str) -> bool {
    let words: Vec<&str> = lower.split([' ', '-']).filter(|w| !w.is_empty()).collect();
    let mut strong = words
        .windows(2)
        .any(|pair| PLACEHOLDER_PAIRS.contains(&(pair[0], pair[1])));
    for word in &words {
        if PLACEHOLDER_WORDS.contains(word) {
            strong = true;
        } else if !PLACEHOLDER_FILLERS.contains(word) {
            return false;
        }
    }
    strong
}

/// Junk as a whole full name only: `NA` (not available) is also the
/// pinyin given name 娜 and the Korean family name 나 in a name part.
const JUNK_FULL_NAMES: &[&str] = &["na"];

/// Words that join two people in one name (`John & Jane Smith`, `Mr and
/// Mrs Smith`): a couple's joint name is no one's name, and compared as one
/// it is alike to both, so it would bridge them.
const JOINING_WORDS: &[&str] = &["and", "und", "et"];

/// Nordic `and`, counted only as typed in lower case inside a name typed
/// in mixed case (`Lars og Mette Hansen`): capitalized it is the Irish
/// `Og` (`Sean Og Murphy`, `Óg` typed in ASCII), and in a name typed in
/// one case, either.
const LOWER_CASE_JOINING_WORDS: &[&str] = &["og", "och"];

/// How a clerk writes a customer whose given name they do not know: the
/// family name and a title (`李先生`, Mr Li; `王女士`, Ms Wang).
const CJK_TITLES: &[&str] = &["先生", "女士", "小姐", "太太", "夫人"];

/// Japanese and Korean honorifics after a name (`山田様`, `山田さん`,
/// `김민수님`): a family name alone (two characters or fewer) or a full
/// name, without them.
const JAPANESE_HONORIFICS: &[&str] = &["様", "さま", "さん", "殿", "님"];

/// Thai titles, written joined to the given name (`นายสมชาย ใจดี`, Mr
/// Somchai Jaidee), longest first, with the gender each says: without them
/// the name is one person's name two ways (`นายสมชาย` against `สมชาย`).
const THAI_TITLES: &[(&str, Option<&str>)] = &[
    ("นางสาว", Some("female")),
    ("นาง", Some("female")),
    ("นาย", Some("male")),
    ("คุณ", None),
];

/// Titles typed before a Latin name (`Mr. John Smith`, `Herr Müller`,
/// `Mme Dupont`, `Sra. García`), compared lower case without a trailing dot.
const LATIN_TITLES: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "madam", "herr", "frau", "mme",
    "mlle", "sr", "sra", "srta", "dhr", "mevr", "rev", "revd", "fr", "capt", "col", "lt", "sgt",
    // Indonesian and Italian forms of address (not `Pak`: a Korean
    // family name as romanized; not `Sig`, a given name).
    "ibu", "bapak", "bpk", "sig.ra", "sig.na",
];

/// Generational suffixes after a Latin name, as they are written
/// (compared lower case without dots) and as kindred writes them: `John
/// Smith Jr.`, `JOHN SMITH III`, `John Smith 2nd`. They tell a father from
/// his son, so they stay in the name (the resolver compares them).
/// `Junior` and `Senior` are not among them: they are family names too
/// (`Olive Senior`).
const GENERATIONAL_SUFFIXES: &[(&str, &str)] = &[
    ("jr", "Jr"),
    ("jnr", "Jr"),
    ("sr", "Sr"),
    ("snr", "Sr"),
    ("ii", "II"),
    ("iii", "III"),
    ("iv", "IV"),
    ("2nd", "II"),
    ("3rd", "III"),
    ("4th", "IV"),
];

/// Degrees, professions and honours after a Latin name (`Jane Doe, MD`,
/// `John Smith PhD`, `Robert Jones Esq.`): no part of the person's name,
/// dropped after a name of two words or more. Only those that are no
/// one's name (not `Ma`, `Ba`, `Do`, nor the Igbo family names `Mba`,
/// `Obe`, `Mbe`; `Md`, Mohammed in Bangladesh, leads a name).
const PROFESSIONAL_SUFFIXES: &[&str] = &[
    "phd", "md", "dds", "dmd", "dvm", "esq", "esquire", "cpa", "rn", "jd", "llb", "llm", "msc",
    "bsc", "cbe", "kbe", "frcs", "ret",
];

/// A full name without its titles: `Mr. John Smith` is `John Smith`,
/// `李伟先生` is `李伟`, and `李先生` is no full name at all but the family
/// name `李` (as (full, family)). A given name a title stood in for would
/// otherwise be compared as one: `先生` against `伟`, another person. What
/// is left is judged again: `Mr Test` is no name.
fn untitled(full: String) -> Untitled {
    if !full.chars().any(is_cjk) {
        if let Some(read) = latin_reading(&full) {
            let Ok(name) = normalize_name(&read.full) else {
                return Untitled::default();
            };
            let mut out = untitled(name);
            if let (Some(_), Some((given, family))) = (&out.full, read.parts) {
                out.given = Some(given);
                out.family = Some(family);
            }
            out.gender = out.gender.or(read.gender);
            return out;
        }
    }
    // A comma no reading of a name turned round took (`John Smith, Jane
    // Smith`, `李娜，王伟`) parts two people: compared as one name, it is
    // alike to both and would bridge them.
    if full.contains(',') {
        return Untitled::default();
    }
    if let Some(title) = CJK_TITLES.iter().find(|t| full.ends_with(*t)) {
        let rest = &full[..full.len() - title.len()];
        let n = rest.chars().count();
        let gender = title_gender(title);
        let Ok(rest) = normalize_name(rest) else {
            return Untitled::default();
        };
        // A Latin word before the title (`Chan先生`, Hong Kong's clerks) is a
        // family name, as `Mr Chan` is.
        let latin_word = !rest.chars().any(is_cjk) && !rest.contains(' ');
        if n == 1 || (n == 2 && COMPOUND_SURNAMES.contains(&rest.as_str())) || latin_word {
            return Untitled {
                family: Some(rest),
                gender,
                ..Untitled::default()
            };
        }
        return Untitled {
            full: Some(rest),
            gender,
            ..Untitled::default()
        };
    }
    if let Some((rest, gender)) = without_thai_title(&full) {
        {
            let mut out = match normalize_name(rest) {
                Ok(name) => untitled(name),
                Err(_) => Untitled::default(),
            };
            out.gender = out.gender.or(gender);
            return out;
        }
    }
    if let Some(title) = JAPANESE_HONORIFICS.iter().find(|t| full.ends_with(*t)) {
        let rest = full[..full.len() - title.len()].trim_end();
        let n = rest.chars().count();
        let latin_word = !rest.chars().any(is_cjk) && !rest.contains(' ');
        // A Korean full name may have two syllables (`이준님`): a family
        // name alone is one.
        let family_alone = if *title == "님" { n == 1 } else { n <= 2 };
        return match normalize_name(rest) {
            Ok(rest) if family_alone || latin_word => Untitled {
                family: Some(rest),
                ..Untitled::default()
            },
            Ok(rest) => Untitled {
                full: Some(rest),
                ..Untitled::default()
            },
            Err(_) => Untitled::default(),
        };
    }
    let mut words = full.split(' ');
    let first = words.next().unwrap_or_default();
    let rest: Vec<&str> = words.collect();
    if !rest.is_empty()
        && LATIN_TITLES.contains(&first.trim_end_matches('.').to_lowercase().as_str())
    {
        // `Prof. Dr. Hans Müller`: every title goes.
        let gender = title_gender(&first.trim_end_matches('.').to_lowercase());
        let mut out = match normalize_name(&rest.join(" ")) {
            // `Mr Smith`: a title and one word is a family name, as
            // `李先生` is; as a full name `Smith` it would be alike to
            // every Smith of the household.
            Ok(name) if !name.contains(' ') && !is_title(&name) => Untitled {
                family: Some(name),
                ..Untitled::default()
            },
            Ok(name) => untitled(name),
            Err(_) => Untitled::default(),
        };
        out.gender = out.gender.or(gender);
        return out;
    }
    Untitled {
        full: Some(full),
        ..Untitled::default()
    }
}

/// A full name without its titles ([`untitled`]).
#[derive(Debug, Default)]
struct Untitled {
    full: Option<String>,
    /// The given name, when the text says which part it is (`Smith, John`).
    given: Option<String>,
    /// A family name alone (`Mr Smith`, `李先生`).
    family: Option<String>,
    /// The gender a title says (`male`, `female`), as [`normalize_gender`]
    /// spells it.
    gender: Option<&'static str>,
}

/// A Latin full name read as [`latin_reading`] reads it.
#[derive(Debug)]
struct LatinReading {
    /// The name as a person's name is written: given names, family name,
    /// generational suffix.
    full: String,
    /// (given, family), when the text said which is which.
    parts: Option<(String, String)>,
    /// The gender a title of the given part said (`Smith, Mrs Jane`).
    gender: Option<&'static str>,
}

/// What a Latin full name says besides the name itself, as a name parser
/// (python-nameparser) reads it, or None when there is nothing to change:
/// - a nickname in quotes or parentheses goes (`John "Jack" Smith`,
///   `Jane (Janie) Doe`);
/// - degrees and honours after it go (`Jane Doe, MD`, `John Smith PhD`);
/// - a family name before a comma is turned round (`Smith, John A., Jr.`
///   is `John A. Smith Jr`, given `John A.`, family `Smith`), titles of
///   the given part dropped (`Smith, Mr John`);
/// - a generational suffix after a comma joins the name (`John Smith,
///   Jr.` is `John Smith Jr`).
fn latin_reading(full: &str) -> Option<LatinReading> {
    // Most names have nothing of this: no comma, bracket or quote, and no
    // degree after two words or more (the ingest path pays for the rest).
    if !full.contains([',', '(', '[', '"', '“', '”', '«', '»']) {
        let mut words = full.rsplit(' ');
        let last = words.next().unwrap_or_default();
        if words.nth(1).is_none() || !PROFESSIONAL_SUFFIXES.contains(&bare(last).as_str()) {
            return None;
        }
    }
    let mut text = String::with_capacity(full.len());
    let mut depth = 0usize;
    let mut quoted = false;
    for c in full.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' if depth > 0 => depth -= 1,
            '"' | '“' | '”' | '«' | '»' => quoted = !quoted,
            _ if depth == 0 && !quoted => text.push(c),
            _ => {}
        }
    }
    if depth > 0 || quoted {
        // Unbalanced: no nickname to tell from the name.
        text = full.to_string();
    }
    let mut pieces: Vec<String> = text
        .split(',')
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect();
    let words_in = |pieces: &[String]| pieces.iter().map(|p| p.split(' ').count()).sum::<usize>();
    // After the last commas: a generation stays; a degree (`Jane Doe, MD`)
    // or a title (`John Smith, Dr.`) goes while a name of two words or more
    // is left (`Hossain, Md` is a name, `Smith, Mr` a family name).
    let mut generation: Option<&'static str> = None;
    let mut gender = None;
    while pieces.len() > 1 {
        let piece = &pieces[pieces.len() - 1];
        let rest = words_in(&pieces[..pieces.len() - 1]);
        if let Some(g) = generation_of(piece) {
            // `Sr.` after a name is Senior, not Señor.
            generation = generation.or(Some(g));
        } else if rest < 2 {
            // `Hossain, Md`, `Smith, Mr`, `Wong, Hon`: a family name and
            // what follows it.
            break;
        } else if let Some(g) = generation_after_name(piece) {
            generation = generation.or(Some(g));
        } else if piece.split(' ').all(after_name_not_name) {
            // Degrees and titles after a full name (`Jane Doe, MBA`,
            // `John Smith, Prof. Dr.`).
            let first = piece.split(' ').next().unwrap_or_default();
            gender = gender.or(title_gender(&bare(first)));
        } else {
            break;
        }
        pieces.pop();
    }
    let (mut words, parts): (Vec<String>, _) = match pieces.as_slice() {
        [name] => (name.split(' ').map(str::to_string).collect(), None),
        [family, given] => {
            let (family, family_gender) = without_titles(family);
            let (mut given, given_gender) = without_titles(given);
            gender = gender.or(family_gender).or(given_gender);
            while given.len() > 1 {
                let Some(last) = given.last() else { break };
                if let Some(g) = generation_after_name(last) {
                    generation = generation.or(Some(g));
                } else if !after_name_not_name(last) || is_title(last) {
                    break;
                }
                given.pop();
            }
            // (One word each, the same: `LI, LI` is 李丽's name turned
            // round, `Li Li`, no two people.)
            let one_each = family.len() == 1 && given.len() == 1;
            let shared = !one_each
                && given
                    .iter()
                    .any(|g| family.iter().any(|f| bare(f) == bare(g)));
            if family.is_empty() || given.is_empty() || shared {
                // `John Smith, Jane Smith`: two people, not a name turned round.
                return None;
            }
            let (family, given) = (
                normalize_name(&family.join(" ")).ok()?,
                normalize_name(&given.join(" ")).ok()?,
            );
            let words = format!("{given} {family}")
                .split(' ')
                .map(str::to_string)
                .collect();
            (words, Some((given, family)))
        }
        _ => return None,
    };
    // Suffixes after the name without a comma: honours go.
    while words.len() > 2 && PROFESSIONAL_SUFFIXES.contains(&bare(&words[words.len() - 1]).as_str())
    {
        words.pop();
    }
    if let Some(g) = generation {
        words.push(g.to_string());
    }
    let read = words.join(" ");
    (read != full).then_some(LatinReading {
        full: read,
        parts,
        gender,
    })
}

/// A word compared with the tables: lower case, without dots (`M.D.`, `Jr.`).
fn bare(word: &str) -> String {
    word.replace('.', "").to_lowercase()
}

/// The words of a piece of a name without the titles before them, and
/// the gender the first title says (`Mrs Smith`: `Smith`, female). A
/// piece that is titles only keeps its last word.
fn without_titles(piece: &str) -> (Vec<&str>, Option<&'static str>) {
    let mut words: Vec<&str> = piece.split(' ').collect();
    let gender = words.first().and_then(|w| title_gender(&bare(w)));
    while words.len() > 1 && words.first().is_some_and(|w| is_title(w)) {
        words.remove(0);
    }
    let titled = words.len() < piece.split(' ').count();
    (words, gender.filter(|_| titled))
}

/// The generation a word written after a name says, as kindred writes it
/// (`Jr.` Jr, `3rd` III, `iii` III), or None. Roman numerals typed in
/// mixed case are a name's own (`Naosuke Ii`, the family name 井伊), as
/// are `Junior` and `Senior` (`Olive Senior`).
fn generation_of(word: &str) -> Option<&'static str> {
    let word_bare = bare(word);
    let (_, written) = GENERATIONAL_SUFFIXES
        .iter()
        .find(|(w, _)| *w == word_bare)?;
    let roman = written.bytes().all(|b| b == b'I' || b == b'V');
    let mixed = word.chars().any(char::is_uppercase) && word.chars().any(char::is_lowercase);
    (!(roman && mixed)).then_some(*written)
}

/// [`generation_of`], and also what only a name's end makes a generation:
/// `Junior`, `Senior`, roman numerals in title case (`Smith, John Iii`,
/// `John Smith, Junior`), read where a full name stands before them.
fn generation_after_name(word: &str) -> Option<&'static str> {
    generation_of(word).or_else(|| match bare(word).as_str() {
        "junior" => Some("Jr"),
        "senior" => Some("Sr"),
        "ii" => Some("II"),
        "iii" => Some("III"),
        "iv" => Some("IV"),
        _ => None,
    })
}

/// Whether a word after a full name (behind a comma, or ending a
/// turned-round given name) is a degree, an honour or a title, no part of
/// the name: [`PROFESSIONAL_SUFFIXES`], [`LATIN_TITLES`], and those that
/// are names elsewhere (`MBA`, `OBE`, `MBE`, `Hon`, `Maj`).
fn after_name_not_name(word: &str) -> bool {
    let w = bare(word);
    PROFESSIONAL_SUFFIXES.contains(&w.as_str())
        || is_title(word)
        || ["mba", "obe", "mbe", "hon", "maj"].contains(&w.as_str())
}

/// The gender a title (lower case, no trailing dot) says: `Mr` and `先生`
/// a man, `Mrs`, `Ms`, `女士`, `小姐` a woman; `Dr` and `Mx` nothing.
fn title_gender(title: &str) -> Option<&'static str> {
    match title {
        "mr" | "sir" | "herr" | "sr" | "dhr" | "先生" => Some("male"),
        "mrs" | "ms" | "miss" | "dame" | "madam" | "frau" | "mme" | "mlle" | "sra" | "srta"
        | "mevr" | "ibu" | "sig.ra" | "sig.na" | "女士" | "小姐" | "太太" | "夫人" => {
            Some("female")
        }
        "bapak" | "bpk" => Some("male"),
        _ => None,
    }
}

/// A given- or family-name field without the titles typed before the name
/// (`Dr. John`, `Mrs Smith`, `Prof. Dr. Müller`: a form with no title field
/// gets them there), and the gender the first one says. A field of titles
/// alone holds no name. Left as typed: `Dr. John` against `John` was
/// another given name, and the two one person's records kept apart.
fn field_without_titles(part: Option<String>) -> (Option<String>, Option<&'static str>) {
    let Some(part) = part else {
        return (None, None);
    };
    // A Thai title joined to a given name (`นายสมชาย`), as in a full name.
    if let Some((rest, gender)) = without_thai_title(&part) {
        return (Some(rest.to_string()), gender);
    }
    let words: Vec<&str> = part.split(' ').collect();
    let titles = words.iter().take_while(|w| is_title(w)).count();
    if titles == 0 || part.chars().any(is_cjk) {
        return (Some(part), None);
    }
    let gender = words[..titles]
        .iter()
        .find_map(|w| title_gender(&w.trim_end_matches('.').to_lowercase()));
    let rest = words[titles..].join(" ");
    ((!rest.is_empty()).then_some(rest), gender)
}

/// A Malaysian or Singaporean name with its father's (`Rajesh s/o Kumar`,
/// `SARAVANAN A/L MUNIANDY`, `Priya d/o Raman`, `Devi a/p Suppiah`): the
/// connector (son of, daughter of; `anak lelaki`, `anak perempuan`) goes,
/// the two names stay, as such names are also written (`Rajesh Kumar`).
/// In capitals it was read as a card's `FAMILY/GIVEN`; in mixed case its
/// slash refused the name.
fn without_patronymic_connector(s: &str) -> Option<String> {
    if !s.contains('/') {
        return None;
    }
    let words: Vec<&str> = s.split(' ').collect();
    let connector = |w: &str| {
        matches!(
            w.to_ascii_lowercase().as_str(),
            "s/o" | "d/o" | "a/l" | "a/p"
        )
    };
    let at = words.iter().position(|w| connector(w))?;
    if at == 0 || at + 1 == words.len() {
        return None;
    }
    Some(
        words
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != at)
            .map(|(_, w)| *w)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// `text` without a Thai title joined to its start ([`THAI_TITLES`]), and
/// the title's gender, when what follows can begin a Thai word (a
/// consonant or a vowel written before one): `คุณากร` is a name, not
/// `คุณ` and `ากร`.
fn without_thai_title(text: &str) -> Option<(&str, Option<&'static str>)> {
    THAI_TITLES.iter().find_map(|(title, gender)| {
        let rest = text.strip_prefix(*title)?.trim_start();
        rest.starts_with(|c: char| matches!(c, '\u{e01}'..='\u{e2e}' | '\u{e40}'..='\u{e44}'))
            .then_some((rest, *gender))
    })
}

fn is_title(word: &str) -> bool {
    LATIN_TITLES.contains(&word.trim_end_matches('.').to_lowercase().as_str())
}

/// Normalizes one name or name part.
pub fn normalize_name(raw: &str) -> Result<String, Rejected> {
    let s = fold(raw);
    let s = s.trim_matches(|c: char| matches!(c, '.' | ',' | ';' | '-' | '_' | ' '));
    if s.is_empty() {
        return Err(Rejected::Empty);
    }
    let patronym = without_patronymic_connector(s);
    let s = patronym.as_deref().unwrap_or(s);
    let card = card_name(s);
    let s = card.as_deref().unwrap_or(s);
    // A generation after a Latin name (`JOHN SMITH 2nd`, `John Smith,
    // Jr.`) is written one way, and the name before it cased on its own
    // (so the output normalizes to itself).
    let (s, generation) = match s.rsplit_once(' ') {
        Some((head, last)) if !s.chars().any(is_cjk) => match generation_of(last) {
            Some(g) => {
                let head = head.trim_end();
                match head.strip_suffix(',') {
                    Some(h) => (h.trim_end(), Some((", ", g))),
                    None => (head, Some((" ", g))),
                }
            }
            None => (s, None),
        },
        _ => (s, None),
    };
    let name = if s.chars().any(is_cjk) && !s.chars().any(|c| c.is_ascii_alphabetic()) {
        // 李 伟 -> 李伟; 李·伟 stays (a transliteration separator).
        fold(&s.chars().filter(|c| *c != ' ').collect::<String>())
    } else if s.chars().any(char::is_uppercase) && s.chars().any(char::is_lowercase) {
        // Typed in mixed case: trust it (McDonald, van der Berg, DiCaprio),
        // but for the dot Unicode's lower case leaves of Turkish `İ` (a
        // script's `"EMİNE".lower().title()` is `Emi̇ne`).
        s.replace("i\u{307}", "i")
    } else {
        roman_numerals_upper(fold(&title_case(s)))
    };
    let name = match generation {
        Some((sep, g)) => format!("{name}{sep}{g}"),
        None => name,
    };
    // Judged on the final form, so that normalizing the output again gives
    // the same answer (idempotence; found by fuzzing: `女 士` became `女士`).
    let lower = name.to_lowercase();
    if JUNK_NAMES.contains(&lower.as_str())
        || is_placeholder(&lower)
        || !name.chars().any(char::is_alphabetic)
        || name.chars().any(|c| c.is_ascii_digit() || c == '@')
    {
        return Err(Rejected::Junk);
    }
    // Between two words: `Anders` and `Et` as a name stay; Spanish `y`
    // also joins one person's two surnames (`Ortega y Gasset`), so it is
    // not counted.
    let words: Vec<&str> = name.split(' ').collect();
    if words.len() > 2
        && words[1..words.len() - 1]
            .iter()
            .any(|w| JOINING_WORDS.contains(&w.to_lowercase().as_str()))
        || name.contains(['&', '+', '/', ';'])
        || joins_two_titles(&words)
        || (s.chars().any(char::is_uppercase) && {
            let typed: Vec<&str> = s.split(' ').collect();
            typed.len() > 2
                && typed[1..typed.len() - 1]
                    .iter()
                    .any(|w| LOWER_CASE_JOINING_WORDS.contains(w))
        })
    {
        return Err(Rejected::Invalid);
    }
    Ok(name)
}

/// Whether a word joins two titles (`Dhr. en Mevr. Jansen`, `Sr. y Sra.
/// García`, `Sr. e Sra. Silva`): a couple, in any language's `and`, even
/// those (`y`, `e`, `en`) that also sit inside one person's name.
fn joins_two_titles(words: &[&str]) -> bool {
    let title = |w: &str| LATIN_TITLES.contains(&w.trim_end_matches('.').to_lowercase().as_str());
    words.windows(3).any(|w| {
        title(w[0])
            && title(w[2])
            && matches!(
                w[1].to_lowercase().as_str(),
                "and" | "und" | "et" | "y" | "e" | "en" | "i" | "og" | "och" | "ve" | "és"
            )
    })
}

/// A payment card's name, as a till reads it from the card (ISO/IEC
/// 7813's track 1: `SMITH/JOHN A.MR`, `DE LA CRUZ/MARIA`), written
/// `Family, Title Given` for [`latin_reading`] to turn round; None for any
/// other text. Card names are capitals only, with the family name before
/// one slash and the given names, then a title after a dot or a space,
/// after it; a slash in a name typed otherwise (`Smith/Jones`) joins two
/// names and is refused as before.
fn card_name(s: &str) -> Option<String> {
    let (family, rest) = s.split_once('/')?;
    let letters = |t: &str| t.chars().filter(|c| c.is_alphabetic()).count();
    if rest.contains('/')
        || s.chars().any(char::is_lowercase)
        || !s
            .chars()
            .all(|c| c.is_ascii_uppercase() || matches!(c, ' ' | '/' | '.' | '-' | '\''))
        || family.ends_with(' ')
        || rest.starts_with(' ')
        || letters(family) < 2
        || letters(rest) < 2
    {
        return None;
    }
    let (given, title) = match rest.rsplit_once(['.', ' ']) {
        Some((given, title)) if is_title(title) && !given.trim().is_empty() => {
            (given.trim(), Some(title))
        }
        _ => (rest, None),
    };
    Some(match title {
        Some(t) => format!("{family}, {t} {given}"),
        None => format!("{family}, {given}"),
    })
}

/// A name put in title case with its generation's roman numerals back in
/// capitals (`DE LA CRUZ, WILLIAM, IV, MD`: `De La Cruz, William, IV, Md`).
fn roman_numerals_upper(name: String) -> String {
    let words: Vec<&str> = name.split(' ').collect();
    // Where a generation stands: last, or before a comma; never first
    // (`ii naosuke` is the family name Ii).
    let roman = |i: usize, w: &str| {
        let core = w.trim_end_matches(',');
        i > 0
            && (i + 1 == words.len() || core.len() < w.len())
            && ["ii", "iii", "iv"].contains(&core.to_lowercase().as_str())
    };
    if !words.iter().enumerate().any(|(i, w)| roman(i, w)) {
        return name;
    }
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if roman(i, w) {
                w.to_uppercase()
            } else {
                (*w).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn title_case(s: &str) -> String {
    const SEPARATORS: [char; 4] = [' ', '-', '\'', '’'];
    let mut out = String::with_capacity(s.len());
    for piece in s.split_inclusive(SEPARATORS) {
        let word = piece.trim_end_matches(SEPARATORS);
        let separators = &piece[word.len()..];
        // The word lower-cased as one string: Greek's capital sigma is `ς`
        // at a word's end and `σ` inside it (`ΠΑΠΑΔΟΠΟΥΛΟΣ` ->
        // `Παπαδοπουλος`, `ΟΣ` -> `Ος`).
        let lower = if word.starts_with(is_cherokee) {
            // Cherokee's capitals are its usual letters.
            word.to_string()
        } else if word.contains(['İ', '\u{307}']) {
            // Turkish's dotted capital is `i` in lower case; Unicode's
            // lower case without a locale is `i` and a combining dot,
            // which `EMİNE` kept inside the name (`Emi̇ne`, not `Emine`),
            // as does a name a script lower-cased before sending it.
            word.replace('İ', "i")
                .to_lowercase()
                .replace("i\u{307}", "i")
        } else {
            word.to_lowercase()
        };
        let mut chars = lower.chars();
        match chars.next() {
            // Georgian is written in one case: its capitals (Mtavruli) are
            // for all-caps headings, not a name's first letter.
            Some(first) if !is_georgian(first) && !is_cherokee(first) => {
                // Title case, not upper case: a letter whose capital is two
                // letters (`ß` -> `SS`) starts the word as `Ss`, so
                // normalizing the output again changes nothing.
                let mut upper = first.to_uppercase();
                if word.starts_with('İ') {
                    // Its own capital again (`İbrahim`).
                    upper.next();
                    out.push('İ');
                } else {
                    out.extend(upper.next());
                }
                out.extend(upper.flat_map(char::to_lowercase));
                out.push_str(chars.as_str());
            }
            _ => out.push_str(&lower),
        }
        out.push_str(separators);
    }
    out
}

/// A Georgian letter (Mkhedruli, Mtavruli, Asomtavruli, Nuskhuri).
fn is_georgian(c: char) -> bool {
    matches!(c, '\u{10A0}'..='\u{10FF}' | '\u{1C90}'..='\u{1CBF}' | '\u{2D00}'..='\u{2D2F}')
}

/// A Cherokee letter (its capitals and its rarer small letters).
fn is_cherokee(c: char) -> bool {
    matches!(c, '\u{13A0}'..='\u{13FF}' | '\u{AB70}'..='\u{ABBF}')
}

/// Full, given and family names from what a source provides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub full: Option<String>,
    pub given: Option<String>,
    pub family: Option<String>,
    /// The gender the full name's title says (`Mrs Smith`: `female`).
    pub title_gender: Option<&'static str>,
}

/// Builds the name parts. When the source gives given and family names,
/// the full name is composed from them (family first for CJK names). When it
/// gives only a full name, a CJK name is split (family name first; Chinese
/// compound and Japanese family names recognised, `split_cjk`); Latin
/// names are not split, since their order is not knowable from the text.
pub fn names(
    full: Option<&str>,
    given: Option<&str>,
    family: Option<&str>,
) -> (Names, Vec<(&'static str, Rejected)>) {
    let mut dropped = Vec::new();
    let mut part = |field: &'static str, v: Option<&str>| match v.map(normalize_name) {
        None | Some(Err(Rejected::Empty)) => None,
        Some(Ok(n))
            if field == "full_name" && JUNK_FULL_NAMES.contains(&n.to_lowercase().as_str()) =>
        {
            dropped.push((field, Rejected::Junk));
            None
        }
        Some(Err(r)) => {
            dropped.push((field, r));
            None
        }
        Some(Ok(n)) => Some(n),
    };
    let raw_full = full;
    let (given, given_title) = field_without_titles(part("given_name", given));
    let (family, family_title) = field_without_titles(part("family_name", family));
    let Untitled {
        full,
        given: read_given,
        family: read_family,
        gender: title_gender,
    } = part("full_name", full).map(untitled).unwrap_or_default();
    let title_gender = title_gender.or(given_title).or(family_title);
    // A source's own fields say more than the full name's text.
    let given = given.or(read_given);
    let family = family.or(read_family);
    let spaced = full
        .as_deref()
        .zip(raw_full)
        .and_then(|(f, raw)| spaced_cjk(raw, f));
    let names = match (full, given, family) {
        (full, Some(g), Some(f)) => {
            // A family name in the given-name field and a given name in the
            // family-name field (a Western form's "First name" / "Last name"
            // filled in as the name is said, 佐藤 / 陽翔, 김 / 민준). One
            // character in the family-name field may be a family name no
            // list holds (`森`, Mori; `辻`): it stays where it was typed,
            // unless the given-name field holds one character too, a Chinese
            // family name, and the family-name field's is none (`刘` / `洋`:
            // a Chinese name of one character each,
            // said family name first; read as typed it was `洋刘`, which the
            // same person's `刘洋` elsewhere does not match).
            let one_each = g.chars().count() == 1
                && f.chars().count() == 1
                && !f.chars().all(crate::surname::is_chinese_surname);
            let swapped = is_cjk_family_name(&g) == Some(true)
                && (f.chars().count() > 1 || one_each)
                && is_cjk_family_name(&f) == Some(false);
            let (g, f) = if swapped { (f, g) } else { (g, f) };
            let composed = if g.chars().chain(f.chars()).any(is_cjk) {
                format!("{f}{g}")
            } else {
                format!("{g} {f}")
            };
            Names {
                full: full.or(Some(composed)),
                given: Some(g),
                family: Some(f),
                title_gender,
            }
        }
        (Some(full), given, family) => {
            let (g, f) = spaced.or_else(|| split_cjk(&full)).unzip();
            Names {
                given: given.or(g),
                family: family.or(f),
                full: Some(full),
                title_gender,
            }
        }
        (None, given, family) => Names {
            full: None,
            given,
            family,
            title_gender,
        },
    };
    (names, dropped)
}

/// A CJK full name typed with one space between family and given name
/// (`山田 太郎`, `김 민수`, `司空 摘星`) as (given, family): the space says
/// where the family name ends, which counting characters cannot for
/// Japanese names or compound surnames not in the list. `full` is the
/// normalized (untitled) full name, which the two parts must make up.
fn spaced_cjk(raw: &str, full: &str) -> Option<(String, String)> {
    let folded = fold(raw);
    let parts: Vec<&str> = folded.split_whitespace().collect();
    let [family, given] = parts.as_slice() else {
        return None;
    };
    if !family
        .chars()
        .chain(given.chars())
        .all(|c| is_cjk(c) || c == ITERATION_MARK)
    {
        return None;
    }
    let (family, given) = (normalize_name(family).ok()?, normalize_name(given).ok()?);
    (format!("{family}{given}") == full).then_some((given, family))
}

/// A CJK full name typed without a space as (given, family): a Chinese
/// name of two to four characters, or a Japanese one of up to six whose
/// family name the list knows (`長谷川健太郎`, `佐々木蓮`).
fn split_cjk(full: &str) -> Option<(String, String)> {
    let chars: Vec<char> = full.chars().collect();
    // A name in kana alone (`さくら`, `ヤマダタロウ`) says nothing of where
    // its family name ends.
    if chars.len() < 2
        || is_kana(chars[0])
        || !chars.iter().all(|c| is_cjk(*c) || *c == ITERATION_MARK)
    {
        return None;
    }
    // A compound family name, in a name of three syllables only where its
    // first syllable is no common family name of its own
    // ([`KOREAN_RARE_FIRST_COMPOUNDS`]: `남궁민`; `황보라` is 황 보라).
    let hangul_compound = chars.len() >= 3 && {
        let head: String = chars[..2].iter().collect();
        KOREAN_COMPOUND_SURNAMES.contains(&head.as_str())
            && (chars.len() > 3 || KOREAN_RARE_FIRST_COMPOUNDS.contains(&head.as_str()))
    };
    let family_len = if hangul_compound {
        2
    } else {
        family_name_len(&chars, false)
    };
    if chars.len() > 4 && (family_len < 2 || chars.len() > 6) {
        return None;
    }
    let family: String = chars[..family_len].iter().collect();
    // A katakana middle dot between the parts (`佐藤・陽翔`) belongs to
    // neither. (A name with the Latin one, `买买提·艾力`, is a given name
    // first: it is not split, above.)
    let given: String = chars[family_len..]
        .iter()
        .skip_while(|c| **c == '・')
        .collect();
    (!given.is_empty()).then_some((given, family))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, Result<&str, Rejected>)] = &[
            ("  li   wei ", Ok("Li Wei")),
            // Placeholders of other markets' tills and CRMs (helper-193).
            ("CONSUMIDOR FINAL", Err(Rejected::Junk)),
            ("Publico en General", Err(Rejected::Junk)),
            ("Cliente", Err(Rejected::Junk)),
            ("Khách lẻ", Err(Rejected::Junk)),
            ("고객님", Err(Rejected::Junk)),
            ("비회원", Err(Rejected::Junk)),
            ("회원님", Err(Rejected::Junk)),
            ("N.A.", Err(Rejected::Junk)),
            ("MARIA SENTOSA", Ok("Maria Sentosa")),
            ("maria sentosa", Ok("Maria Sentosa")),
            ("McDonald", Ok("McDonald")),
            ("van der Berg", Ok("van der Berg")),
            ("o'brien", Ok("O'Brien")),
            ("jean-luc picard", Ok("Jean-Luc Picard")),
            ("ＭＡＲＩＡ", Ok("Maria")),
            ("李伟", Ok("李伟")),
            ("李 伟", Ok("李伟")),
            ("欧阳 娜娜", Ok("欧阳娜娜")),
            ("山田太郎", Ok("山田太郎")),
            ("김민준", Ok("김민준")),
            ("José Álvarez", Ok("José Álvarez")),
            ("JOSÉ ÁLVAREZ", Ok("José Álvarez")),
            ("Zoë", Ok("Zoë")),
            ("Nguyễn Văn An", Ok("Nguyễn Văn An")),
            // Greek's final sigma; Georgian, written in one case, as typed.
            ("ΠΑΠΑΔΟΠΟΥΛΟΣ", Ok("Παπαδοπουλος")),
            ("ΓΙΩΡΓΟΣ ΠΑΠΑΣ", Ok("Γιωργος Παπας")),
            ("გიორგი ბერიძე", Ok("გიორგი ბერიძე")),
            ("ᲒᲘᲝᲠᲒᲘ ᲑᲔᲠᲘᲫᲔ", Ok("გიორგი ბერიძე")),
            ("ΟΣ ΣΑΣ", Ok("Ος Σας")),
            ("JEAN-LUC O'BRIEN", Ok("Jean-Luc O'Brien")),
            // Turkish capitals: no combining dot left inside the name.
            ("EMİNE ÇELİK", Ok("Emine Çelik")),
            ("İBRAHİM", Ok("İbrahim")),
            ("İbrahim", Ok("İbrahim")),
            // Lower-cased (and title-cased) by a script before it was sent.
            ("emi\u{307}ne çeli\u{307}k", Ok("Emine Çelik")),
            ("Emi\u{307}ne Çeli\u{307}k", Ok("Emine Çelik")),
            ("", Err(Rejected::Empty)),
            ("  ", Err(Rejected::Empty)),
            ("test", Err(Rejected::Junk)),
            ("N/A", Err(Rejected::Junk)),
            ("John & Jane Smith", Err(Rejected::Invalid)),
            ("Mr and Mrs Smith", Err(Rejected::Invalid)),
            ("Jean et Marie Dupont", Err(Rejected::Invalid)),
            // `and` in the language of the titles it joins.
            ("Dhr. en Mevr. Jansen", Err(Rejected::Invalid)),
            ("Sr. y Sra. García", Err(Rejected::Invalid)),
            ("Sr. e Sra. Silva", Err(Rejected::Invalid)),
            ("Herr und Frau Müller", Err(Rejected::Invalid)),
            ("Smith/Jones", Err(Rejected::Invalid)),
            ("José Ortega y Gasset", Ok("José Ortega y Gasset")),
            ("Anders And", Ok("Anders And")),
            ("顾客", Err(Rejected::Junk)),
            ("先生", Err(Rejected::Junk)),
            ("女\0\0士;", Err(Rejected::Junk)),
            ("12345", Err(Rejected::Junk)),
            ("li.wei@qq.com", Err(Rejected::Junk)),
            ("Room 101", Err(Rejected::Junk)),
            // Placeholders of more than one word.
            ("Walk-in Customer", Err(Rejected::Junk)),
            ("VALUED CUSTOMER", Err(Rejected::Junk)),
            ("Guest User", Err(Rejected::Junk)),
            ("Unknown Unknown", Err(Rejected::Junk)),
            ("test customer", Err(Rejected::Junk)),
            ("散客", Err(Rejected::Junk)),
            // Two fillers a till writes alone for nobody.
            ("Walk-in", Err(Rejected::Junk)),
            ("WALK IN", Err(Rejected::Junk)),
            ("Cash Sale", Err(Rejected::Junk)),
            // A placeholder word in a person's name, or a filler alone.
            ("Christopher Guest", Ok("Christopher Guest")),
            ("A Guest", Ok("A Guest")),
            ("Johnny Cash", Ok("Johnny Cash")),
            ("In", Ok("In")),
            ("Sale", Ok("Sale")),
            ("Walker Sale", Ok("Walker Sale")),
            ("Valued", Ok("Valued")),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize_name(raw).as_deref(), want.as_deref(), "{raw:?}");
        }
    }

    #[test]
    fn a_couple_named_by_two_titles_is_no_ones_name() {
        for full in [
            "Dhr. en Mevr. Jansen",
            "Sr. y Sra. García",
            "Sr. e Sra. Silva",
        ] {
            let (n, dropped) = names(Some(full), None, None);
            assert_eq!(n.full, None, "{full}");
            assert_eq!(n.title_gender, None, "{full}");
            assert_eq!(dropped, vec![("full_name", Rejected::Invalid)], "{full}");
        }
        // `y` inside one person's names stays.
        let (n, _) = names(Some("Sr. José Ortega y Gasset"), None, None);
        assert_eq!(n.full.as_deref(), Some("José Ortega y Gasset"));
    }

    #[test]
    fn parts() {
        // A Latin family name and a CJK title or honorific: the family
        // name, and the title's gender, as `Mr Chan`.
        for (typed, gender) in [
            ("Chan先生", Some("male")),
            ("Chan小姐", Some("female")),
            ("Tanaka様", None),
        ] {
            let (n, _) = names(Some(typed), None, None);
            assert_eq!(n.full, None, "{typed}");
            assert!(n.family.is_some(), "{typed}");
            assert_eq!(n.title_gender, gender, "{typed}");
        }
        // Thai titles joined to the given name, Korean's 님, Indonesian's
        // Ibu: the name without them, and the gender they say.
        for (typed, full, gender) in [
            ("นายสมชาย ใจดี", "สมชาย ใจดี", Some("male")),
            ("นางสาวสมศรี ใจดี", "สมศรี ใจดี", Some("female")),
            ("김민수님", "김민수", None),
            ("이준님", "이준", None),
            ("Ibu Sari Dewi", "Sari Dewi", Some("female")),
            // Not titles: a name that starts as one does (Khunakorn), and
            // the given name Sig.
            ("คุณากร ใจดี", "คุณากร ใจดี", None),
            ("Sig Hansen", "Sig Hansen", None),
        ] {
            let (n, _) = names(Some(typed), None, None);
            assert_eq!(n.full.as_deref(), Some(full), "{typed}");
            assert_eq!(n.title_gender, gender, "{typed}");
        }
        // A Thai title in the given-name field goes too.
        let (n, _) = names(None, Some("นายสมชาย"), Some("ใจดี"));
        assert_eq!(n.given.as_deref(), Some("สมชาย"));
        let (n, _) = names(None, Some("Sig"), Some("Hansen"));
        assert_eq!(n.given.as_deref(), Some("Sig"));
        // A till's `dear customer` with its honorific is no family name.
        let (n, _) = names(Some("お客さま"), None, None);
        assert_eq!((n.full.as_deref(), n.family.as_deref()), (None, None));
        let (n, _) = names(Some("李伟"), None, None);
        assert_eq!(
            (n.family.as_deref(), n.given.as_deref()),
            (Some("李"), Some("伟"))
        );
        let (n, _) = names(Some("欧阳娜娜"), None, None);
        assert_eq!(
            (n.family.as_deref(), n.given.as_deref()),
            (Some("欧阳"), Some("娜娜"))
        );
        // Japanese family names of the list, with kana and iteration marks;
        // a name in kana alone is not split.
        for (full, family, given) in [
            ("山田太郎", "山田", "太郎"),
            ("田中楓", "田中", "楓"),
            ("長谷川健太郎", "長谷川", "健太郎"),
            ("佐々木蓮", "佐々木", "蓮"),
            ("岡田さくら", "岡田", "さくら"),
            ("佐藤・陽翔", "佐藤", "陽翔"),
            ("김민준", "김", "민준"),
            ("남궁민수", "남궁", "민수"),
            ("황보라", "황", "보라"),
            ("황보영수", "황보", "영수"),
        ] {
            let (n, _) = names(Some(full), None, None);
            assert_eq!(
                (n.family.as_deref(), n.given.as_deref()),
                (Some(family), Some(given)),
                "{full}"
            );
        }
        let (n, _) = names(Some("さくら"), None, None);
        assert_eq!((n.family, n.given), (None, None));
        let (n, _) = names(None, Some("伟"), Some("李"));
        assert_eq!(n.full.as_deref(), Some("李伟"));
        // Family and given name typed in each other's fields.
        for (given, family, full) in [
            ("李", "泽斌", "李泽斌"),
            ("肖", "雨涵", "肖雨涵"),
            ("張", "家豪", "張家豪"),
            ("佐藤", "陽翔", "佐藤陽翔"),
            ("김", "민준", "김민준"),
            // One character each, the family name first as it is said.
            ("刘", "洋", "刘洋"),
        ] {
            let (n, _) = names(None, Some(given), Some(family));
            assert_eq!(
                (n.full.as_deref(), n.family.as_deref()),
                (Some(full), Some(given)),
                "{given} / {family}"
            );
        }
        // Both fields hold family names (明 is one too): left as typed.
        let (n, _) = names(None, Some("王"), Some("明"));
        assert_eq!(n.full.as_deref(), Some("明王"));
        // One character in the family-name field may be a family name no
        // list holds; a traditional or a modern Chinese one is listed.
        for (given, family) in [
            ("明", "森"),
            ("隆", "原"),
            ("明", "陳"),
            ("明", "肖"),
            ("大和", "森"),
            // Japanese given names that are modern or traditional Chinese
            // family names too, beside a family name no list holds.
            ("陸", "冨樫"),
            ("南", "冨樫"),
            ("陽", "御手洗"),
            ("龍", "勅使河原"),
        ] {
            let (n, _) = names(None, Some(given), Some(family));
            assert_eq!(
                (n.given.as_deref(), n.family.as_deref()),
                (Some(given), Some(family)),
                "{given} / {family}"
            );
        }
        let (n, _) = names(None, Some("美咲"), Some("田中"));
        assert_eq!(n.full.as_deref(), Some("田中美咲"));
        let (n, _) = names(None, Some("maria"), Some("SENTOSA"));
        assert_eq!(n.full.as_deref(), Some("Maria Sentosa"));
        let (n, _) = names(Some("Maria Sentosa"), None, None);
        assert_eq!(
            (n.given, n.family),
            (None, None),
            "Latin names are not split by guess"
        );
        // A space typed between the parts says where the family name
        // ends (Japanese, Korean, surnames not in the list).
        for (typed, family, given) in [
            ("山田 太郎", "山田", "太郎"),
            ("長谷川　いずみ", "長谷川", "いずみ"),
            ("김 민수", "김", "민수"),
            ("司空 摘星", "司空", "摘星"),
            ("李 伟", "李", "伟"),
        ] {
            let (n, _) = names(Some(typed), None, None);
            assert_eq!(
                (n.family.as_deref(), n.given.as_deref()),
                (Some(family), Some(given)),
                "{typed}"
            );
            assert_eq!(n.full, Some(format!("{family}{given}")), "{typed}");
        }
        // Not two parts, or a title after the space: counted as before.
        let (n, _) = names(Some("李 先生"), None, None);
        assert_eq!((n.full, n.family.as_deref()), (None, Some("李")));
        // Compound surnames of the Hundred Family Surnames, one table
        // with the resolver's name folding.
        for (typed, family) in [("漆雕开", "漆雕"), ("第五伦", "第五"), ("澹臺滅明", "澹臺")]
        {
            let (n, _) = names(Some(typed), None, None);
            assert_eq!(n.family.as_deref(), Some(family), "{typed}");
        }
        let (n, _) = names(Some("欧 阳 娜 娜"), None, None);
        assert_eq!(n.family.as_deref(), Some("欧阳"));
        let (n, _) = names(Some("歐陽娜娜"), None, None);
        assert_eq!(
            (n.family.as_deref(), n.given.as_deref()),
            (Some("歐陽"), Some("娜娜"))
        );
        // A title is no given name: Mr Li is a Li, nothing more.
        for (typed, family) in [("李先生", "李"), ("王女士", "王"), ("欧阳小姐", "欧阳")]
        {
            let (n, _) = names(Some(typed), None, None);
            assert_eq!(
                (n.full.as_deref(), n.family.as_deref(), n.given.as_deref()),
                (None, Some(family), None),
                "{typed}"
            );
        }
        let (n, _) = names(Some("李伟先生"), None, None);
        assert_eq!(
            (n.full.as_deref(), n.family.as_deref(), n.given.as_deref()),
            (Some("李伟"), Some("李"), Some("伟"))
        );
        for junk in ["无先生", "Mr. Test", "Ms Guest", "Mr X"] {
            let (n, _) = names(Some(junk), None, None);
            assert_eq!((n.full, n.family), (None, None), "{junk}");
        }
        let (n, _) = names(Some("Prof. Dr. Hans Müller"), None, None);
        assert_eq!(n.full.as_deref(), Some("Hans Müller"));
        // German, French, Spanish and Dutch titles; Japanese honorifics.
        for (typed, full, family) in [
            ("Herr Hans Müller", Some("Hans Müller"), None),
            ("Frau Müller", None, Some("Müller")),
            ("Mme Claire Dupont", Some("Claire Dupont"), None),
            ("Sra. García", None, Some("García")),
            ("山田様", None, Some("山田")),
            ("山田さん", None, Some("山田")),
            ("山田太郎様", Some("山田太郎"), None),
        ] {
            let (n, _) = names(Some(typed), None, None);
            assert_eq!(n.full.as_deref(), full, "{typed}");
            if full.is_none() {
                assert_eq!(n.family.as_deref(), family, "{typed}");
            }
        }
        // A title and one word is a family name, not a full name that
        // every Smith of the household would be alike to.
        for typed in ["Mr Smith", "Mrs. Smith", "MS SMITH"] {
            let (n, _) = names(Some(typed), None, None);
            assert_eq!(
                (n.full, n.family.as_deref()),
                (None, Some("Smith")),
                "{typed}"
            );
        }
        // The title's gender tells Mr Smith from Mrs Smith.
        for (typed, gender) in [
            ("Mr Smith", Some("male")),
            ("Mrs. Smith", Some("female")),
            ("Dr. Smith", None),
            ("Prof. Dr. Hans Müller", None),
            ("Frau Dr. Anna Müller", Some("female")),
            ("李先生", Some("male")),
            ("王女士", Some("female")),
            ("欧阳小姐", Some("female")),
            ("李伟先生", Some("male")),
            ("山田様", None),
            ("John Smith", None),
        ] {
            let (n, _) = names(Some(typed), None, None);
            assert_eq!(n.title_gender, gender, "{typed}");
        }
        // Titles typed in the given- or family-name field (a form with no
        // title field) go too, saying the gender as well.
        for (given, family, want) in [
            (
                Some("Dr. John"),
                Some("Smith"),
                (Some("John"), Some("Smith"), None),
            ),
            (
                Some("John"),
                Some("Dr. Müller"),
                (Some("John"), Some("Müller"), None),
            ),
            (
                Some("Mrs Jane"),
                Some("Doe"),
                (Some("Jane"), Some("Doe"), Some("female")),
            ),
            (
                Some("Mr"),
                Some("Smith"),
                (None, Some("Smith"), Some("male")),
            ),
            (
                Some("Frau Dr. Anna"),
                Some("Müller"),
                (Some("Anna"), Some("Müller"), Some("female")),
            ),
            (
                Some("Don"),
                Some("Smith"),
                (Some("Don"), Some("Smith"), None),
            ),
        ] {
            let (n, _) = names(None, given, family);
            assert_eq!(
                (n.given.as_deref(), n.family.as_deref(), n.title_gender),
                want,
                "{given:?} {family:?}"
            );
        }
        let (n, _) = names(None, Some("Dr. John"), Some("Smith"));
        assert_eq!(n.full.as_deref(), Some("John Smith"));
        // `Na` is a given name (娜); `NA` as a whole name is not available.
        let (n, _) = names(None, Some("Na"), Some("Li"));
        assert_eq!(n.full.as_deref(), Some("Na Li"));
        let (n, dropped) = names(Some("NA"), None, None);
        assert_eq!(
            (n.full, dropped),
            (None, vec![("full_name", Rejected::Junk)])
        );
        let (n, _) = names(Some("Mr. John Smith"), None, None);
        assert_eq!(n.full.as_deref(), Some("John Smith"));
        let (n, _) = names(Some("MRS JANE DOE"), None, None);
        assert_eq!(n.full.as_deref(), Some("Jane Doe"));
        // A name that only looks like it has a title keeps it.
        let (n, _) = names(Some("Miss"), None, None);
        assert_eq!(n.full.as_deref(), Some("Miss"));
        let (n, dropped) = names(Some("test"), Some("Ann"), None);
        assert_eq!((n.full, n.given.as_deref()), (None, Some("Ann")));
        assert_eq!(dropped, vec![("full_name", Rejected::Junk)]);
    }
}
