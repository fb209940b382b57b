//! Phone numbers to E.164 with libphonenumber's metadata (`phonenumber` crate).

use phonenumber::Mode;

use crate::text::{ascii_digits, fold, without_zero_fraction, Rejected};
use crate::NormalizeOptions;

/// Parses a phone number as typed anywhere (`+86 139 1024 8876`,
/// `0086-139-1024-8876`, `139 1024 8876`, full-width digits, `ext. 12`) and
/// returns it in E.164 (`+8613910248876`). National numbers are read in the
/// default region. A number typed with an extension is a switchboard's,
/// shared by an office, and is refused ([`Rejected::Business`]), as are
/// toll-free, premium-rate, shared-cost and universal access numbers.
/// Numbers libphonenumber does not consider valid are rejected, not guessed.
pub fn normalize_phone(raw: &str, opts: &NormalizeOptions) -> Result<String, Rejected> {
    let raw = without_zero_fraction(raw);
    if let Some(fast) = opts
        .phone_fast_path
        .as_deref()
        .filter(|f| f.region == opts.default_region)
    {
        if let Some(result) = fast.try_normalize(raw) {
            return result;
        }
    }
    normalize_phone_in(raw, opts.default_region)
}

/// [`normalize_phone`] with national numbers read in `region` (a region the
/// event names, say the country of the till that took the sale).
pub fn normalize_phone_in(raw: &str, region: phonenumber::country::Id) -> Result<String, Rejected> {
    let text = ascii_digits(&fold(without_zero_fraction(raw)));
    full_parse_memo(&text, region, || full_parse(&text, region))
}

/// The one country whose currency `code` (ISO 4217, upper case) is, for the
/// currencies of retail markets; `None` for a currency several countries
/// share (EUR, XOF, ...) or one not listed. A till's currency says where it
/// stands, so where a national phone number typed at it was dialled.
pub fn region_of_currency(code: &str) -> Option<phonenumber::country::Id> {
    let region = match code {
        "CNY" => "CN",
        "HKD" => "HK",
        "MOP" => "MO",
        "TWD" => "TW",
        "JPY" => "JP",
        "KRW" => "KR",
        "SGD" => "SG",
        "MYR" => "MY",
        "THB" => "TH",
        "IDR" => "ID",
        "PHP" => "PH",
        "VND" => "VN",
        "INR" => "IN",
        "AUD" => "AU",
        "NZD" => "NZ",
        "GBP" => "GB",
        "CHF" => "CH",
        "SEK" => "SE",
        "NOK" => "NO",
        "DKK" => "DK",
        "PLN" => "PL",
        "CZK" => "CZ",
        "HUF" => "HU",
        "CAD" => "CA",
        "USD" => "US",
        "MXN" => "MX",
        "BRL" => "BR",
        "ZAR" => "ZA",
        "AED" => "AE",
        "SAR" => "SA",
        "ILS" => "IL",
        "TRY" => "TR",
        _ => return None,
    };
    region.parse().ok()
}

/// How many full-parse outcomes each thread remembers.
const MEMO_CAPACITY: usize = 65_536;

thread_local! {
    /// Outcomes of the full parse by folded text and region. The same
    /// customer's number comes back typed the same way, and the full parse
    /// is slow: `phonenumber` 0.3 keeps only 100 compiled metadata regexes,
    /// so a feed with several countries recompiles regexes on most calls
    /// (tens of microseconds). Bounded, in memory only, never logged; emptied
    /// when full.
    static MEMO: std::cell::RefCell<std::collections::HashMap<(String, phonenumber::country::Id), Result<String, Rejected>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Forgets every remembered full-parse outcome of this thread (benchmarks
/// use it so that each pass over a sample starts cold).
pub fn clear_phone_memo() {
    MEMO.with(|m| m.borrow_mut().clear());
}

fn full_parse_memo(
    text: &str,
    region: phonenumber::country::Id,
    parse: impl FnOnce() -> Result<String, Rejected>,
) -> Result<String, Rejected> {
    let key = (text.to_string(), region);
    if let Some(hit) = MEMO.with(|m| m.borrow().get(&key).cloned()) {
        return hit;
    }
    let outcome = parse();
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= MEMO_CAPACITY {
            m.clear();
        }
        m.insert(key, outcome.clone());
    });
    outcome
}

/// How many compiled metadata regexes `phonenumber` keeps (see
/// [`widen_regex_cache`]): every pattern of the few dozen regions a
/// retailer's feeds use, a few hundred, fits.
const REGEX_CACHE_CAPACITY: usize = 4096;

/// `phonenumber` 0.3 compiles its metadata's regexes on first use into one
/// least-recently-used cache of 100 shared by every region, hard-coded. A
/// feed from several countries needs more than that (each region has a
/// dozen patterns), so most numbers not seen before evicted a regex and
/// compiled one again: about 5% of `kindred demo`'s CPU (`perf`, the
/// generator's 100k data set). The database hands out its cache, so it is
/// replaced, once per process, by a larger one; the compiled regexes it
/// held are compiled again on their next use.
fn widen_regex_cache() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let cache = phonenumber::metadata::DATABASE.cache();
        // A poisoned lock only means a thread panicked while matching; the
        // cache is replaced whole, and the flag cleared (`phonenumber`
        // itself unwraps the lock).
        {
            let mut inner = cache
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            *inner = regex_cache::RegexCache::new(REGEX_CACHE_CAPACITY);
        }
        cache.clear_poison();
    });
}

/// The full libphonenumber parse of folded text, national numbers read in
/// `default_region`; a number that is none there but starts with a
/// country's calling code as a group of its own (`852 9123 4567`, the `+`
/// left out) is read as that country's.
/// Whether a phone number was typed in international form (`+44 20 ...`,
/// `0044 20 ...`): it names one number whatever the default region. A
/// national number (`020 7031 3000`) is read in the default region and may
/// name another person's line there: what must name exactly one person
/// (an erasure) should not be read so.
pub fn typed_internationally(raw: &str) -> bool {
    let text = ascii_digits(&fold(raw));
    let start = text.trim_start_matches(|c: char| !(c.is_ascii_digit() || c == '+' || c == '＋'));
    start.starts_with('+') || start.starts_with("00")
}

fn full_parse(text: &str, default_region: phonenumber::country::Id) -> Result<String, Rejected> {
    match full_parse_as_typed(text, default_region) {
        Err(Rejected::Invalid) => calling_code_without_plus(text, default_region)
            .map(Ok)
            .or_else(|| after_00(text, default_region))
            .or_else(|| retired_mobile_form(text, default_region).map(Ok))
            .or_else(|| by_patterns(text, default_region))
            .unwrap_or(Err(Rejected::Invalid)),
        other => other,
    }
}

/// A number that the `phonenumber` crate misreads, read by its region's
/// own patterns ([`pattern_kind`]; a business's is refused as such). The
/// crate strips a national prefix from every number that starts with it,
/// even one in international form, and even when the rest is no number:
/// it refuses `+7 812 398-25-97` (St Petersburg, and every Russian area
/// code starting with 8) and `8 029 491-74-18` (a Belarusian mobile,
/// national prefix `8 0`). Digits and separators only; a national number
/// is read in `region`, without its national prefix if that reading is a
/// number, else as typed.
fn by_patterns(text: &str, region: phonenumber::country::Id) -> Option<Result<String, Rejected>> {
    let text = without_label(text.trim());
    let plus = text.strip_prefix('+');
    if !plus
        .unwrap_or(text)
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '/'))
    {
        return None;
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let candidates = if plus.is_some() {
        vec![format!("+{digits}")]
    } else {
        let dialling = dialling(region)?;
        // Dialled abroad with the region's international prefix (`8 10`
        // from Belarus, `011` from North America): the rest is an
        // international number, and no national reading is tried.
        if let Some(m) = dialling
            .international
            .as_ref()
            .and_then(|p| p.find(&digits))
        {
            let rest = &digits[m.end()..];
            if rest.is_empty() || rest.starts_with('0') {
                return None;
            }
            return match full_parse(&format!("+{rest}"), region) {
                Err(Rejected::Invalid) => None,
                other => Some(other),
            };
        }
        let code = dialling.code;
        let stripped = dialling
            .national
            .as_ref()
            .and_then(|p| p.find(&digits))
            .map(|m| digits[m.end()..].to_string());
        // Without its national prefix, as typed, or (libphonenumber's
        // last reading) after the region's own calling code typed first.
        let own_code = digits
            .starts_with(&code.to_string())
            .then(|| format!("+{digits}"));
        stripped
            .into_iter()
            .chain([digits.clone()])
            .map(|national| format!("+{code}{national}"))
            .chain(own_code)
            .collect()
    };
    // The first reading some type of the region's knows: a business's is
    // refused as such; a line, a personal, VoIP or pager number is read.
    candidates
        .into_iter()
        .find_map(|e164| match pattern_kind(&e164)? {
            Kind::Business => Some(Err(Rejected::Business)),
            Kind::Placeholder => Some(Err(Rejected::Junk)),
            Kind::Person => Some(Ok(e164)),
        })
}

/// A national number that starts with its region's own calling code and
/// is a number as typed (`483096376`, a Polish landline, 48 being
/// Poland's code): libphonenumber keeps it whole, where the `phonenumber`
/// crate reads the code off it (`e164`, here `+48 309 63 76`). Not when
/// the code read off leaves a mobile and the whole is none
/// (`4915123984712`, a German mobile from an export without its `+`, is
/// no Leer landline typed without its trunk 0: no one types that).
fn own_code_kept(text: &str, region: phonenumber::country::Id, e164: &str) -> Option<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let code = dialling(region)?.code.to_string();
    if !digits.starts_with(&code) || e164 != format!("+{digits}") {
        return None;
    }
    let national = format!("+{code}{digits}");
    let mobile_read_off =
        phone_line(e164) == PhoneLine::Mobile && phone_line(&national) != PhoneLine::Mobile;
    (!mobile_read_off && pattern_kind(&national) == Some(Kind::Person)).then_some(national)
}

/// How a region's numbers are dialled ([`dialling`]).
#[derive(Clone)]
struct Dialling {
    /// The calling code.
    code: u16,
    /// The national prefix (`national_prefix_for_parsing`, or the prefix
    /// itself, as libphonenumber reads it), anchored; `None` for none, or
    /// for a prefix rewritten rather than stripped (Argentina's, Norfolk
    /// Island's).
    national: Option<regex::Regex>,
    /// The international prefix (`00`, `011`, `8~10`), anchored.
    international: Option<regex::Regex>,
}

thread_local! {
    /// Each region's [`Dialling`], compiled once.
    static DIALLING: std::cell::RefCell<std::collections::HashMap<phonenumber::country::Id, Option<Dialling>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// How `region`'s numbers are dialled (`None`: not in the metadata).
fn dialling(region: phonenumber::country::Id) -> Option<Dialling> {
    // Patterns as the metadata writes them: whitespace means nothing.
    let anchored = |pattern: &str| {
        let pattern: String = pattern.chars().filter(|c| !c.is_whitespace()).collect();
        regex::Regex::new(&format!("^(?:{pattern})")).ok()
    };
    DIALLING.with(|cache| {
        cache
            .borrow_mut()
            .entry(region)
            .or_insert_with(|| {
                let meta = phonenumber::metadata::DATABASE.by_id(region.as_ref())?;
                let national = meta
                    .national_prefix_for_parsing()
                    .map(|p| p.as_str().to_string())
                    .or_else(|| meta.national_prefix().map(regex::escape))
                    .filter(|_| meta.national_prefix_transform_rule().is_none())
                    .and_then(|p| anchored(&p));
                let international = meta
                    .international_prefix()
                    .and_then(|p| anchored(p.as_str()));
                Some(Dialling {
                    code: meta.country_code(),
                    national,
                    international,
                })
            })
            .clone()
    })
}

/// What a number in E.164 is by its region's patterns ([`pattern_kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A mobile or fixed line, a personal, VoIP or pager number.
    Person,
    /// Toll-free, premium-rate, shared-cost, universal access, voicemail.
    Business,
    /// A placeholder ([`is_placeholder`]).
    Placeholder,
}

/// libphonenumber's typing of a number in E.164, read from its region's
/// metadata as libphonenumber reads it: each type's pattern matching the
/// whole number and its length one the type allows, the business types
/// first (`None`: no type of the region's has it, the number is not
/// valid). The `phonenumber` crate's own check matches a pattern at the
/// start of the number only (it takes `+241 25 34 96 28`, Gabon, a digit
/// too many, for valid), and its typing drops a leading zero of the
/// national number (it calls Botswana's toll-free `+267 0800 017 755`
/// unknown).
fn pattern_kind(e164: &str) -> Option<Kind> {
    with_plans(e164, |code, plans, national| {
        let length = u16::try_from(national.len()).unwrap_or(u16::MAX);
        let kind = plans
            .iter()
            .filter(|p| p.general.is_match(national))
            .find_map(|p| {
                p.kinds
                    .iter()
                    .find(|(_, pattern, lengths)| {
                        (lengths.is_empty() || lengths.contains(&length))
                            && pattern.is_match(national)
                    })
                    .map(|(kind, _, _)| *kind)
            })?;
        Some(match kind {
            Kind::Person if is_placeholder(code, national) => Kind::Placeholder,
            other => other,
        })
    })
    .flatten()
}

/// `+00 86 139 ...`, or `00 44 20 ...` typed where the region dials
/// abroad otherwise (the US with 011, Japan with 010): `00` is the
/// international prefix of most of the world, so the digits after it read
/// as an international number.
fn after_00(text: &str, region: phonenumber::country::Id) -> Option<Result<String, Rejected>> {
    let text = without_label(text.trim());
    let rest = text
        .strip_prefix("+00")
        .or_else(|| text.strip_prefix("00"))?;
    let rest = rest.trim_start_matches([' ', '-', '.']);
    if !rest.starts_with(|c: char| c.is_ascii_digit() && c != '0') {
        return None;
    }
    // Read with every fallback (the number may be one the `phonenumber`
    // crate misreads); a business's is refused as such.
    match full_parse(&format!("+{rest}"), region) {
        Err(Rejected::Invalid) => None,
        other => Some(other),
    }
}

/// A mobile number in a form its country's dialling plan has dropped or
/// that libphonenumber's data does not read, as the number it is:
/// - Mexico's `+52 1` before a mobile's ten digits (dropped in 2019-2020),
///   and the national prefixes `044`, `045` (mobiles) and `01` (long
///   distance): `+52 1 55 2948 7316`, `044 55 2948 7316` are
///   `+525529487316`;
/// - Argentina's national mobile form, area code, `15`, subscriber:
///   `011 15 2948-7316` is `+5491129487316`, as dialled from abroad;
/// - Brazil's carrier selection code after the national prefix:
///   `0 21 11 92948-7316` (carrier 21) is `+5511929487316`.
///
/// Digits and separators only (an extension is not rewritten); the result
/// must be a valid number.
fn retired_mobile_form(text: &str, region: phonenumber::country::Id) -> Option<String> {
    use phonenumber::country::Id;
    let text = without_label(text.trim());
    if !text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '/' | '+'))
    {
        return None;
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let international = if text.starts_with('+') {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    let try_e164 =
        |national: &str, cc: &str| full_parse_as_typed(&format!("+{cc}{national}"), region).ok();
    // (calling code, national digits as typed, whether typed nationally)
    let (cc, national, domestic) = match international {
        Some(d) if d.starts_with("52") => ("52", &d[2..], false),
        Some(d) if d.starts_with("54") => ("54", &d[2..], false),
        Some(_) => return None,
        None if region == Id::MX => ("52", digits.as_str(), true),
        None if region == Id::AR => ("54", digits.as_str(), true),
        None if region == Id::BR => ("55", digits.as_str(), true),
        None => return None,
    };
    match cc {
        "52" => {
            let ten = if domestic {
                ["044", "045", "01"]
                    .iter()
                    .find_map(|p| national.strip_prefix(p))
                    .filter(|rest| rest.len() == 10)?
            } else {
                national.strip_prefix('1').filter(|rest| rest.len() == 10)?
            };
            try_e164(ten, cc)
        }
        "54" => {
            // Area codes have 2 to 4 digits; area code and subscriber, 10.
            let national = if domestic {
                national.strip_prefix('0').unwrap_or(national)
            } else {
                national.strip_prefix('9').unwrap_or(national)
            };
            if national.len() != 12 {
                return None;
            }
            (2..=4).find_map(|area| {
                let (code, rest) = national.split_at(area);
                let subscriber = rest.strip_prefix("15")?;
                try_e164(&format!("9{code}{subscriber}"), cc)
            })
        }
        _ => {
            // `0`, a two-digit carrier code, area code and number (10 or
            // 11 digits).
            let rest = national.strip_prefix('0')?;
            if !matches!(rest.len(), 12 | 13) {
                return None;
            }
            try_e164(&rest[2..], cc)
        }
    }
}

/// `text` read as `+text`, if its first group of digits, followed by a
/// separator, is the calling code of the country that reading lands in.
fn calling_code_without_plus(text: &str, region: phonenumber::country::Id) -> Option<String> {
    let text = without_label(text.trim());
    if !text.starts_with(|c: char| c.is_ascii_digit() && c != '0') {
        return None;
    }
    let first = text.split(|c: char| !c.is_ascii_digit()).next()?;
    if !(1..=3).contains(&first.len()) || first.len() == text.len() {
        return None;
    }
    let e164 = full_parse_as_typed(&format!("+{text}"), region).ok()?;
    let number = phonenumber::parse(None, &e164).ok()?;
    (number.code().value().to_string() == first).then_some(e164)
}

fn full_parse_as_typed(
    text: &str,
    default_region: phonenumber::country::Id,
) -> Result<String, Rejected> {
    widen_regex_cache();
    if !text.chars().any(|c| c.is_ascii_digit()) {
        return Err(if text.is_empty() {
            Rejected::Empty
        } else {
            Rejected::Invalid
        });
    }
    let text = without_label(text);
    // Letters other than an extension marker mean this is not a phone number.
    let letters: String = text
        .chars()
        .filter(|c| c.is_alphabetic())
        .collect::<String>()
        .to_lowercase();
    if !letters.is_empty()
        && !["ext", "x", "extension", "ext.", "转", "分机"].contains(&letters.as_str())
    {
        return Err(Rejected::Invalid);
    }
    // A number in international form needs no region, and reading it in one
    // can only go wrong.
    let region = (!text.starts_with('+')).then_some(default_region);
    let number = phonenumber::parse(region, text).map_err(|_| Rejected::Invalid)?;
    if !phonenumber::is_valid(&number) {
        return Err(Rejected::Invalid);
    }
    let national = number.national().to_string();
    if !digits_account_for(text, number.code().value(), &national) {
        return Err(Rejected::Invalid);
    }
    if is_placeholder(number.code().value(), &national) {
        return Err(Rejected::Junk);
    }
    // A business's number is no one person's: a hotline clerks type onto
    // receipts (China's 400 numbers, +1 800) would link every customer
    // given it. So is a switchboard's number typed with an extension.
    // (A mobile or fixed line, by the cheap cached patterns, is neither:
    // libphonenumber's typing runs every pattern of the region.)
    let e164 = number.format().mode(Mode::E164).to_string();
    if let Some(national) = region.and_then(|r| own_code_kept(text, r, &e164)) {
        return Ok(national);
    }
    let kind = pattern_kind(&e164).ok_or(Rejected::Invalid)?;
    if has_extension(text) || (kind == Kind::Business && phone_line(&e164) == PhoneLine::Other) {
        return Err(Rejected::Business);
    }
    // A foreign number dialled from the default region (`00 7 ...`) goes
    // through the region's dialling rules; accept it only if its E.164 form
    // reads back as the same valid number, so the output is a fixed point
    // (found by fuzzing: `00-786025 35044` read as a valid +7 number whose
    // E.164 form the `phonenumber` crate then rejected: the Russian area
    // codes starting with 8 it misreads, read now by `by_patterns`).
    if region.is_some() && number.country().id() != Some(default_region) {
        let again = phonenumber::parse(None, &e164).map_err(|_| Rejected::Invalid)?;
        if !phonenumber::is_valid(&again) || again.format().mode(Mode::E164).to_string() != e164 {
            return Err(Rejected::Invalid);
        }
    }
    Ok(e164)
}

/// `text` without a leading label a form or an export puts before the
/// number (`tel:`, `Tel.`, `Mobile:`, `手机：`, `电话`): the number itself is
/// what follows it.
fn without_label(text: &str) -> &str {
    const LABELS: &[&str] = &[
        "tel",
        "tél",
        "tlf",
        "telf",
        "phone",
        "ph",
        "mobile",
        "mobil",
        "mob",
        "cell",
        "hp",
        "handphone",
        "telephone",
        "telefon",
        "telefone",
        "telefono",
        "teléfono",
        "handy",
        "natel",
        "cel",
        "celular",
        "cellulare",
        "movil",
        "móvil",
        "portable",
        "gsm",
        "mobiel",
        "telemovel",
        "telemóvel",
        "手机",
        "电话",
        "手机号",
        "手机号码",
        "电话号码",
        "联系电话",
        "手機",
        "電話",
        "手機號碼",
        "電話號碼",
        "聯絡電話",
        "携帯",
    ];
    let end = text
        .find(|c: char| !c.is_alphabetic())
        .unwrap_or(text.len());
    let (word, rest) = text.split_at(end);
    let text = if word.is_empty() || !LABELS.contains(&word.to_lowercase().as_str()) {
        text
    } else {
        // `Phone #: 415-555-2671`: a number sign after the label only.
        rest.trim_start_matches([':', '.', ' ', '#'])
    };
    without_kind_note(text)
}

/// A number without a note after it saying whose line it is (`02 9374
/// 4000 (H)`, `+86 139 1024 8876 (mobile)`). Not a fax's or an office's:
/// those stay, and are refused as no person's line.
fn without_kind_note(text: &str) -> &str {
    const NOTES: [&str; 12] = [
        "h", "m", "c", "home", "mobile", "mob", "cell", "private", "privat", "casa", "maison",
        "手机",
    ];
    let Some(open) = text.strip_suffix(')').and_then(|t| t.rfind('(')) else {
        return text;
    };
    let note = text[open + 1..text.len() - 1].trim();
    if NOTES.contains(&note.to_lowercase().as_str())
        && text[..open].contains(|c: char| c.is_ascii_digit())
    {
        text[..open].trim_end()
    } else {
        text
    }
}

/// Whether `raw` is typed in the groups its reading `e164` is written in
/// nationally in its own country, the national prefix typed or not:
/// `1-312-663-8544` or `(312) 663-8544` for +1 312 663 8544, `(13)
/// 99123-4567` for a Brazilian mobile; not `131 2345 6789`, which is how a
/// Chinese mobile is written. Digits typed in one run say nothing.
pub fn typed_in_national_groups(raw: &str, e164: &str) -> bool {
    let text = fold(raw);
    let typed: Vec<usize> = digit_groups(without_label(&text));
    if typed.len() < 2 {
        return false;
    }
    let Ok(number) = phonenumber::parse(None, e164) else {
        return false;
    };
    let written = digit_groups(&number.format().mode(Mode::National).to_string());
    if typed == written {
        return true;
    }
    let prefix = number
        .metadata(&phonenumber::metadata::DATABASE)
        .and_then(|m| m.national_prefix())
        .map(str::len);
    // The national prefix as a group of its own (`1-312-663-8544`), when
    // the national format does not already carry it (`020 7946 0018`).
    prefix.is_some_and(|p| typed[0] == p && typed[1..] == written[..])
}

/// Whether `raw` reached `e164` through a national (trunk) prefix typed
/// before the national number: `0151 23984712` read in China drops its
/// `0` and is the Chinese mobile `+86 151 2398 4712`, though no one writes
/// a Chinese mobile with a leading `0` (and every German does). Digits
/// typed as the national number alone (`139 1024 8876`), or behind the
/// country code (`+86 139…`, `0086 139…`), are not.
pub fn through_trunk_prefix(raw: &str, e164: &str) -> bool {
    let text = fold(raw);
    let digits: String = without_label(&text)
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let Ok(number) = phonenumber::parse(None, e164) else {
        return false;
    };
    let national = number.national().to_string();
    let code = number.code().value().to_string();
    digits
        .strip_suffix(national.as_str())
        .is_some_and(|prefix| !prefix.is_empty() && !prefix.ends_with(&code))
}

/// Whether `raw` reads as a number in `region` (valid there, whether
/// kindred takes it or refuses it as a business line or a placeholder) and
/// is typed in the groups `region` writes that number in nationally.
pub(crate) fn grouped_as_there(raw: &str, region: phonenumber::country::Id) -> bool {
    let text = ascii_digits(&fold(raw));
    phonenumber::parse(Some(region), without_label(text.trim()))
        .ok()
        .filter(phonenumber::is_valid)
        .is_some_and(|n| typed_in_national_groups(raw, &n.format().mode(Mode::E164).to_string()))
}

/// Whether `raw`'s digits are those `e164` is written with nationally in
/// its own country, trunk prefix and all (`07 78 12 34 56` for a French
/// mobile, `0151 23984712` for a German one).
pub fn typed_as_written_nationally(raw: &str, e164: &str) -> bool {
    let text = fold(raw);
    let digits: String = without_label(&text)
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    phonenumber::parse(None, e164).is_ok_and(|number| {
        number
            .format()
            .mode(Mode::National)
            .to_string()
            .chars()
            .filter(char::is_ascii_digit)
            .eq(digits.chars())
    })
}

/// The lengths of the runs of ASCII digits in `text`.
fn digit_groups(text: &str) -> Vec<usize> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .map(str::len)
        .collect()
}

/// The common case, checked without the full parser: a mobile number of
/// the default region, typed as digits with ordinary separators, nationally
/// (`139 1024 8876`) or with the country code (`+86 139...`, `0086 139...`).
///
/// Why: libphonenumber's full parse costs about 7 µs per number here (and its
/// regex cache takes a global lock per match), most of the ingest budget.
/// This path uses the same metadata (the region's mobile pattern and possible
/// lengths, compiled once) and gives the same answer, which a differential
/// test checks; anything else falls through to the full parser.
#[derive(Debug)]
pub struct MobileFastPath {
    pub(crate) region: phonenumber::country::Id,
    country_code: String,
    country_code_value: u16,
    mobile: regex::Regex,
    lengths: Vec<usize>,
}

impl MobileFastPath {
    /// The fast path of `region`, compiled once per process and shared, so
    /// that building `NormalizeOptions` stays cheap.
    pub(crate) fn shared(region: phonenumber::country::Id) -> Option<std::sync::Arc<Self>> {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex, OnceLock};
        type Cache = Mutex<HashMap<phonenumber::country::Id, Option<Arc<MobileFastPath>>>>;
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
        // A poisoned lock only means another thread panicked while inserting;
        // the map itself is still a valid cache.
        let mut map = cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry(region)
            .or_insert_with(|| MobileFastPath::for_region(region).map(Arc::new))
            .clone()
    }

    pub(crate) fn for_region(region: phonenumber::country::Id) -> Option<Self> {
        let metadata = phonenumber::metadata::DATABASE.by_id(region.as_ref())?;
        let mobile = metadata.descriptors().mobile()?;
        // The metadata's patterns are laid out with whitespace, which
        // libphonenumber ignores; so do we. Matches are anchored at both ends.
        let source: String = mobile
            .national_number()
            .as_str()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let mobile = regex::Regex::new(&format!("^(?:{source})$")).ok()?;
        let lengths = mobile_lengths(mobile_possible(metadata));
        Some(MobileFastPath {
            region,
            country_code: metadata.country_code().to_string(),
            country_code_value: metadata.country_code(),
            mobile,
            lengths,
        })
    }

    /// `Some(answer)` when the fast path can decide, `None` to fall through.
    fn try_normalize(&self, raw: &str) -> Option<Result<String, Rejected>> {
        let raw = raw.trim();
        if raw.is_empty() || !raw.is_ascii() {
            return None;
        }
        let mut digits = String::with_capacity(16);
        let mut plus = false;
        for (i, c) in raw.char_indices() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => plus = true,
                ' ' | '-' | '(' | ')' | '.' => {}
                _ => return None,
            }
        }
        let national = if plus {
            digits.strip_prefix(self.country_code.as_str())?
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.strip_prefix(self.country_code.as_str())?
        } else {
            digits.as_str()
        };
        if !self.lengths.contains(&national.len()) || !self.mobile.is_match(national) {
            return None;
        }
        if is_placeholder(self.country_code_value, national) {
            return Some(Err(Rejected::Junk));
        }
        Some(Ok(format!("+{}{}", self.country_code, national)))
    }
}

fn mobile_possible(metadata: &phonenumber::metadata::Metadata) -> Vec<u16> {
    let mobile = metadata
        .descriptors()
        .mobile()
        .map(|d| d.possible_length().to_vec());
    match mobile {
        Some(l) if !l.is_empty() => l,
        _ => metadata.descriptors().general().possible_length().to_vec(),
    }
}

fn mobile_lengths(lengths: Vec<u16>) -> Vec<usize> {
    lengths.into_iter().map(usize::from).collect()
}

/// Whether an extension follows the number (`x101`, `ext. 12`, `转801`,
/// Taiwan's `#12`, a dialler's `,12` pause): one to six digits after a
/// marker. More digits are a second number (`139..., 138...`): not a
/// number at all, refused as invalid.
fn has_extension(text: &str) -> bool {
    let lower = text.to_lowercase();
    EXTENSION_MARKERS.iter().any(|marker| {
        lower.split_once(marker).is_some_and(|(before, after)| {
            let digits = after.chars().filter(char::is_ascii_digit).count();
            before.chars().any(|c| c.is_ascii_digit()) && (1..=6).contains(&digits)
        })
    })
}

/// What separates an extension from the number (see [`digits_account_for`]).
const EXTENSION_MARKERS: [&str; 8] = ["x", "转", "分", "#", ",", ";", "~", "ext"];

/// Whether the digits typed are the national number preceded only by what
/// dialling adds: nothing, a trunk prefix (`0`, `1`, `8`), the country code
/// (`86`, `+86`, `0086`, `011 86`), or the country code and a trunk digit
/// (`+44 (0)7911...`). libphonenumber sometimes strips more as a national
/// or carrier prefix and returns a *different* valid number
/// (`0049 17948508317` read as `+49 508317`); a wrong identifier is worse
/// than none, so such a reading is refused.
fn digits_account_for(text: &str, country_code: u16, national: &str) -> bool {
    // The extension after its marker (`x`, `#` as in Taiwan, a dialler's
    // `,` or `;` pause) is not part of the number.
    let digits: String = text
        .split(['x', 'X', '转', '分', '#', ',', ';', '~'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let Some(prefix) = digits.strip_suffix(national) else {
        return false;
    };
    let prefix = prefix
        .strip_prefix("00")
        .or_else(|| prefix.strip_prefix("011"))
        .unwrap_or(prefix);
    let cc = country_code.to_string();
    let rest = prefix.strip_prefix(cc.as_str()).unwrap_or(prefix);
    // A trunk digit (`+44 (0)7911...`) or a national prefix of more digits
    // (Hungary's `06`) is the number's own country's: Italy has none, so
    // `00 39 0331 123456` keeps its 0 (read as dialled, by `after_00`),
    // whatever the default region strips.
    rest.is_empty()
        || phonenumber::metadata::DATABASE
            .by_code(&country_code)
            .is_some_and(|regions| regions.iter().any(|m| m.national_prefix() == Some(rest)))
}

/// Well-known numbers typed as placeholders, as (country code, national
/// number): valid numbers that belong to no customer.
/// - China Mobile's customer-service line `138 0013 8000`, the stock fake
///   mobile number in China.
const KNOWN_PLACEHOLDERS: &[(u16, &str)] = &[(86, "13800138000")];

/// Ranges reserved for fiction, which no subscriber can hold, as (country
/// code, national prefix, digits after it):
/// - Ofcom's drama numbers: mobile `07700 900000`-`900999`, London
///   `020 7946 0000`-`0999`;
/// - NANP's fictional `555-0100`-`0199` in every area code is matched in
///   [`is_placeholder`] (the area code varies).
const FICTION_RANGES: &[(u16, &str, usize)] = &[(44, "7700900", 3), (44, "2079460", 3)];

/// Numbers cashiers type when the customer gives none: a subscriber part of
/// one repeated digit (`138 8888 8888`, `139 0000 0000`), a plain run
/// (`123 4567 8901`, `139 1234 5678`), a well-known placeholder
/// ([`KNOWN_PLACEHOLDERS`]) or a number reserved for fiction ([`FICTION_RANGES`]).
fn is_placeholder(country_code: u16, national: &str) -> bool {
    let digits: Vec<u8> = national.bytes().filter(u8::is_ascii_digit).collect();
    let tail = &digits[digits.len().saturating_sub(7)..];
    let repeated = tail.windows(2).all(|w| w[0] == w[1]);
    let ascending = digits.windows(2).all(|w| w[1] == w[0] + 1);
    let descending = digits.windows(2).all(|w| w[0] == w[1] + 1);
    let typed_run = "12345678901234567890".starts_with(national);
    let subscriber_run = digits.len() >= 10 && digits.ends_with(b"12345678");
    let known = KNOWN_PLACEHOLDERS.contains(&(country_code, national));
    let fiction = FICTION_RANGES.iter().any(|(cc, prefix, rest)| {
        *cc == country_code && national.len() == prefix.len() + rest && national.starts_with(prefix)
    });
    let nanp_fiction =
        country_code == 1 && national.len() == 10 && national.get(3..8) == Some("55501");
    repeated
        || ascending
        || descending
        || typed_run
        || subscriber_run
        || known
        || fiction
        || nanp_fiction
}

/// What kind of line a phone number is, by libphonenumber's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneLine {
    /// A mobile number: one person's.
    Mobile,
    /// A fixed line: a household's or an office's, shared by whoever lives
    /// or works there.
    FixedLine,
    /// The numbering plan cannot tell (North America: mobile and fixed
    /// numbers share the same ranges).
    FixedOrMobile,
    /// Anything else (VoIP, toll-free, personal numbers) or not a number
    /// the metadata knows.
    Other,
}

/// The line type of a phone number in E.164 form (`+862161234567` is a
/// Shanghai fixed line, `+8613910248876` a mobile), as an identifier's
/// normalized value holds it. Cheap: one or two compiled metadata patterns
/// per call, compiled once per country code and thread.
pub fn phone_line(e164: &str) -> PhoneLine {
    with_plans(e164, |_, plans, national| {
        // A shared code: the first region whose patterns know the number.
        plans
            .iter()
            .filter(|p| p.general.is_match(national))
            .map(|p| p.line(national))
            .find(|l| *l != PhoneLine::Other)
            .unwrap_or(PhoneLine::Other)
    })
    .unwrap_or(PhoneLine::Other)
}

/// Calls `f` with the country code of a number in E.164, the compiled
/// patterns of the regions sharing it and the national significant number
/// (`None`: not E.164, or no such code).
fn with_plans<R>(e164: &str, f: impl FnOnce(u16, &[LinePlan], &str) -> R) -> Option<R> {
    let digits = e164
        .strip_prefix('+')
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
    let mut f = Some(f);
    for len in 1..=3.min(digits.len()) {
        let (code, national) = digits.split_at(len);
        let code = code.parse::<u16>().ok()?;
        let found = LINES.with(|cache| {
            let mut cache = cache.borrow_mut();
            let plans = cache
                .entry(code)
                .or_insert_with(|| LinePlan::for_code(code));
            if plans.is_empty() {
                return None;
            }
            f.take().map(|f| f(code, plans, national))
        });
        if found.is_some() {
            return found;
        }
    }
    None
}

thread_local! {
    /// Compiled line patterns per country code (empty: no such code).
    static LINES: std::cell::RefCell<std::collections::HashMap<u16, Vec<LinePlan>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// One region's number patterns, anchored and compiled.
struct LinePlan {
    general: regex::Regex,
    mobile: Option<regex::Regex>,
    fixed: Option<regex::Regex>,
    /// Every number type's pattern and possible lengths, in
    /// libphonenumber's order: business types first. (Every type of the
    /// crate's metadata lists its lengths; a type that listed none would
    /// take the general ones, and none there means no check.)
    kinds: Vec<(Kind, regex::Regex, Vec<u16>)>,
    /// Mobile and fixed-line patterns are the same (North America).
    same: bool,
}

impl LinePlan {
    /// The plans of every region sharing `code` (`+1`: US, CA and the
    /// Caribbean; `+44`: GB, the Channel Islands and Man).
    fn for_code(code: u16) -> Vec<LinePlan> {
        let Some(regions) = phonenumber::metadata::DATABASE.by_code(&code) else {
            return Vec::new();
        };
        regions
            .into_iter()
            .filter_map(|m| {
                let d = m.descriptors();
                let source = |x: &phonenumber::metadata::Descriptor| -> String {
                    x.national_number()
                        .as_str()
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect()
                };
                let compile = |s: &str| regex::Regex::new(&format!("^(?:{s})$")).ok();
                let (mobile, fixed) = (d.mobile().map(source), d.fixed_line().map(source));
                let general_lengths = d.general().possible_length();
                let kinds = [
                    (Kind::Business, d.premium_rate()),
                    (Kind::Business, d.toll_free()),
                    (Kind::Business, d.shared_cost()),
                    (Kind::Person, d.voip()),
                    (Kind::Person, d.personal_number()),
                    (Kind::Person, d.pager()),
                    (Kind::Business, d.uan()),
                    (Kind::Business, d.voicemail()),
                    (Kind::Person, d.fixed_line()),
                    (Kind::Person, d.mobile()),
                ]
                .into_iter()
                .filter_map(|(kind, x)| {
                    let x = x?;
                    let lengths = match x.possible_length() {
                        [] => general_lengths,
                        own => own,
                    };
                    Some((kind, compile(&source(x))?, lengths.to_vec()))
                })
                .collect();
                Some(LinePlan {
                    general: compile(&source(d.general()))?,
                    kinds,
                    same: mobile.is_some() && mobile == fixed,
                    mobile: mobile.as_deref().and_then(compile),
                    fixed: fixed.as_deref().and_then(compile),
                })
            })
            .collect()
    }

    /// libphonenumber's order: a number both patterns match is either.
    fn line(&self, national: &str) -> PhoneLine {
        let matches = |r: &Option<regex::Regex>| r.as_ref().is_some_and(|r| r.is_match(national));
        if matches(&self.fixed) {
            if self.same || matches(&self.mobile) {
                PhoneLine::FixedOrMobile
            } else {
                PhoneLine::FixedLine
            }
        } else if !self.same && matches(&self.mobile) {
            PhoneLine::Mobile
        } else {
            PhoneLine::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numbers the `phonenumber` crate misreads (tests/libphonenumber.rs
    /// checks every region against libphonenumber itself).
    #[test]
    fn numbers_the_phonenumber_crate_misreads_read_as_libphonenumber_reads_them() {
        use phonenumber::country::Id;
        let read = |raw: &str, region: Id| normalize_phone_in(raw, region);
        // A Russian area code starting with 8: the crate strips it as the
        // national prefix, in every form.
        for raw in [
            "+7 812 398-25-97",
            "+78123982597",
            "8 (812) 398-25-97",
            "tel:+7-812-398-25-97",
        ] {
            assert_eq!(read(raw, Id::RU).as_deref(), Ok("+78123982597"), "{raw}");
        }
        assert_eq!(
            read("+7 812 398-25-97", Id::CN).as_deref(),
            Ok("+78123982597")
        );
        // Belarus's national prefix is `8 0`.
        assert_eq!(
            read("8 029 491-74-18", Id::BY).as_deref(),
            Ok("+375294917418")
        );
        // A toll-free number whose national number starts with 0: the
        // crate's typing calls it unknown.
        assert_eq!(read("+267 0800 017 755", Id::US), Err(Rejected::Business));
        assert_eq!(read("0800 017 755", Id::BW), Err(Rejected::Business));
        // A digit too many: the crate matches a pattern's start only.
        assert_eq!(read("+241 25 34 96 28", Id::US), Err(Rejected::Invalid));
        // A placeholder read by the patterns is still junk.
        assert_eq!(read("+7 812 111-11-11", Id::RU), Err(Rejected::Junk));
        // Dialled from abroad: the St Petersburg number from Belarus (`8
        // 10`) and Lithuania (`00`), the region's own calling code typed
        // first.
        for (raw, region) in [
            ("8 10 7 812 398 25 97", Id::BY),
            ("00 7 812 398 25 97", Id::LT),
            ("7 812 398 25 97", Id::RU),
        ] {
            assert_eq!(read(raw, region).as_deref(), Ok("+78123982597"), "{raw}");
        }
        // Italy has no national prefix: its numbers keep their 0, whatever
        // the region dialling them strips.
        for region in [Id::DE, Id::GB, Id::LT, Id::CN] {
            assert_eq!(
                read("00 39 0331 123456", region).as_deref(),
                Ok("+390331123456"),
                "{region:?}"
            );
        }
        // A national number that starts with the region's own calling
        // code and is a number as typed stays whole (a Polish landline).
        assert_eq!(read("483096376", Id::PL).as_deref(), Ok("+48483096376"));
        // An international prefix is no national number: Rwanda's 00
        // before Tuvalu's code, Israel's 015, Uruguay's 019 (libphonenumber
        // finds no valid number in any).
        for (raw, region) in [
            ("006889454", Id::RW),
            ("015306474400", Id::IL),
            ("019975649", Id::UY),
        ] {
            assert_eq!(read(raw, region), Err(Rejected::Invalid), "{raw}");
        }
    }

    fn us() -> NormalizeOptions {
        NormalizeOptions {
            default_region: phonenumber::country::Id::US,
            ..NormalizeOptions::default()
        }
    }

    fn ae() -> NormalizeOptions {
        NormalizeOptions {
            default_region: phonenumber::country::Id::AE,
            ..NormalizeOptions::default()
        }
    }

    fn hu() -> NormalizeOptions {
        NormalizeOptions {
            default_region: phonenumber::country::Id::HU,
            ..NormalizeOptions::default()
        }
    }

    #[test]
    fn table() {
        let cn = NormalizeOptions::default();
        let cases: &[(&str, &NormalizeOptions, Result<&str, Rejected>)] = &[
            ("+86 139 1024 8876", &cn, Ok("+8613910248876")),
            ("0086-139-1024-8876", &cn, Ok("+8613910248876")),
            ("139 1024 8876", &cn, Ok("+8613910248876")),
            ("13910248876", &cn, Ok("+8613910248876")),
            // Through a spreadsheet as a decimal; in scientific notation its
            // last digits are gone.
            ("13910248876.0", &cn, Ok("+8613910248876")),
            ("1.39102E+10", &cn, Err(Rejected::Invalid)),
            ("(+86) 139-1024-8876", &cn, Ok("+8613910248876")),
            ("+86 13910248876", &cn, Ok("+8613910248876")),
            ("８６１３９１０２４８８７６", &cn, Ok("+8613910248876")),
            ("＋８６ １３９ １０２４ ８８７６", &cn, Ok("+8613910248876")),
            ("１３９１０２４８８７６", &cn, Ok("+8613910248876")),
            ("+86 10 6552 9988", &cn, Ok("+861065529988")),
            ("010-6552-9988", &cn, Ok("+861065529988")),
            ("021 5466 1234", &cn, Ok("+862154661234")),
            ("+86 10 6552 9988 ext. 123", &cn, Err(Rejected::Business)),
            ("+86 10 6552 9988 x123", &cn, Err(Rejected::Business)),
            ("+852 2123 4567", &cn, Ok("+85221234567")),
            ("+886 912 345 678", &cn, Ok("+886912345678")),
            ("+65 9123 4567", &cn, Ok("+6591234567")),
            ("+60 12-388 6789", &cn, Ok("+60123886789")),
            ("+62 812-3456-7890", &cn, Ok("+6281234567890")),
            ("+81 90-3012-4488", &cn, Ok("+819030124488")),
            // Japan's stock fake mobile number.
            ("+81 90-1234-5678", &cn, Err(Rejected::Junk)),
            ("+82 10-2345-6789", &cn, Ok("+821023456789")),
            ("+44 20 7031 3000", &cn, Ok("+442070313000")),
            ("+44 7911 123456", &cn, Ok("+447911123456")),
            // Ofcom's range reserved for drama: not a real number.
            ("+44 7700 900123", &cn, Err(Rejected::Invalid)),
            ("+1 (415) 555-2671", &cn, Ok("+14155552671")),
            ("(415) 555-2671", &us(), Ok("+14155552671")),
            ("+49 30 901820", &cn, Ok("+4930901820")),
            ("+33 1 42 68 53 00", &cn, Ok("+33142685300")),
            ("+61 2 9374 4000", &cn, Ok("+61293744000")),
            ("+8613910248876", &cn, Ok("+8613910248876")),
            ("", &cn, Err(Rejected::Empty)),
            ("   ", &cn, Err(Rejected::Empty)),
            ("n/a", &cn, Err(Rejected::Invalid)),
            ("call me", &cn, Err(Rejected::Invalid)),
            ("123", &cn, Err(Rejected::Invalid)),
            ("+86 123", &cn, Err(Rejected::Invalid)),
            ("1391024887699999", &cn, Err(Rejected::Invalid)),
            ("+999 1234 5678", &cn, Err(Rejected::Invalid)),
            ("12345678901", &cn, Err(Rejected::Invalid)),
            ("13888888888", &cn, Err(Rejected::Junk)),
            ("13900000000", &cn, Err(Rejected::Junk)),
            ("138-0000-0000", &cn, Err(Rejected::Junk)),
            // Well-known placeholders and numbers reserved for fiction.
            ("138 0013 8000", &cn, Err(Rejected::Junk)),
            ("+86 138 0013 8000", &cn, Err(Rejected::Junk)),
            ("139 1234 5678", &cn, Err(Rejected::Junk)),
            ("+44 20 7946 0958", &cn, Err(Rejected::Junk)),
            ("+1 212 555 0123", &cn, Err(Rejected::Junk)),
            ("(212) 555-0199", &us(), Err(Rejected::Junk)),
            ("(212) 555-0200", &us(), Ok("+12125550200")),
            ("1 2 3 4", &cn, Err(Rejected::Invalid)),
            ("+44 1234 567890", &cn, Err(Rejected::Junk)),
            ("+86 138 0013 800a", &cn, Err(Rejected::Invalid)),
            // A Krasnodar landline (+7 860), as libphonenumber reads it;
            // the `phonenumber` crate's own reading did not read back.
            ("00-786025\u{1} 35044", &cn, Ok("+78602535044")),
            ("00 44 20 7031 3000", &cn, Ok("+442070313000")),
            ("+44 (0)7911 123456", &cn, Ok("+447911123456")),
            // A calling code typed without its `+`, as a group of its own.
            ("44 7911 123456", &cn, Ok("+447911123456")),
            ("447911123456", &cn, Err(Rejected::Invalid)),
            // Labels, and characters that show as nothing.
            ("tel:+86-139-1024-8876", &cn, Ok("+8613910248876")),
            ("Tel. 139 1024 8876", &cn, Ok("+8613910248876")),
            ("手机：13910248876", &cn, Ok("+8613910248876")),
            ("Mobile: +44 7911 123456", &cn, Ok("+447911123456")),
            // Other languages' labels, a number sign after one, a note
            // after the number saying whose line it is.
            ("Handy: +49 151 23984712", &cn, Ok("+4915123984712")),
            ("Cel: +52 55 2948 7316", &cn, Ok("+525529487316")),
            ("Portable : +33 6 12 34 56 78", &cn, Ok("+33612345678")),
            ("Tlf +45 20 12 34 56", &cn, Ok("+4520123456")),
            ("Phone #: 415-555-2671", &us(), Ok("+14155552671")),
            ("+61 2 9374 4000 (H)", &cn, Ok("+61293744000")),
            ("+86 139 1024 8876 (mobile)", &cn, Ok("+8613910248876")),
            ("+86 139 1024 8876 (fax)", &cn, Err(Rejected::Invalid)),
            ("139\u{200B}1024\u{FEFF}8876", &cn, Ok("+8613910248876")),
            ("fax 139 1024 8876", &cn, Err(Rejected::Invalid)),
            // Read by libphonenumber as +49 508317, dropping "17948" (that
            // reading is refused); the digits after `00` read whole are a
            // German mobile.
            ("0049 17948508317", &cn, Ok("+4917948508317")),
            // `00` and `+00` international prefixes, wherever typed.
            ("+0086 139 1024 8876", &cn, Ok("+8613910248876")),
            ("+00852 2123 4567", &cn, Ok("+85221234567")),
            ("0044 20 7031 3000", &us(), Ok("+442070313000")),
            ("001 415 555 2671", &us(), Ok("+14155552671")),
            ("0000000000", &us(), Err(Rejected::Invalid)),
            // A switchboard's number: extensions after `#` (Taiwan's way)
            // and a dialler's pause.
            ("+886 2 2345 6789#123", &cn, Err(Rejected::Business)),
            ("+1 415 555 2671,,123", &cn, Err(Rejected::Business)),
            // Two numbers in one field are not one number (as before), not
            // a business's.
            ("139 1024 8876, 138 1234 5679", &cn, Err(Rejected::Invalid)),
            // More labels, simplified and traditional.
            ("手机号码：13910248876", &cn, Ok("+8613910248876")),
            ("電話：+852 2123 4567", &cn, Ok("+85221234567")),
            ("HP: +65 9123 4567", &cn, Ok("+6591234567")),
            // A national prefix of two digits (Hungary's 06).
            ("06 30 123 4567", &hu(), Ok("+36301234567")),
            // Businesses' numbers: toll-free, China's 400 hotlines,
            // premium-rate and shared-cost numbers.
            ("+1 888 642 7676", &cn, Err(Rejected::Business)),
            ("1-800-642-7676", &us(), Err(Rejected::Business)),
            ("400 820 8820", &cn, Err(Rejected::Business)),
            ("+44 800 123 4567", &cn, Err(Rejected::Business)),
            ("+44 909 879 0000", &cn, Err(Rejected::Business)),
            ("+44 845 464 0000", &cn, Err(Rejected::Business)),
            // Digits of other scripts, typed on their keyboards.
            ("٠٥٠١٢٣٤٥٦٧", &ae(), Ok("+971501234567")),
            ("+۹۷۱ ۵۰ ۱۲۳ ۴۵۶۷", &cn, Ok("+971501234567")),
            ("+91 ९८१२२ ३४४७७", &cn, Ok("+919812234477")),
        ];
        for (raw, opts, want) in cases {
            assert_eq!(
                normalize_phone(raw, opts).as_deref(),
                want.as_deref(),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn retired_and_unread_mobile_forms_are_the_numbers_they_stand_for() {
        use phonenumber::country::Id;
        let mx = "+525529487316";
        let ar = "+5491129487316";
        let br = "+5511929487316";
        for (raw, region, want) in [
            ("+52 55 2948 7316", Id::MX, Ok(mx)),
            ("+52 1 55 2948 7316", Id::MX, Ok(mx)),
            ("+52 1 55 2948 7316", Id::CN, Ok(mx)),
            ("00 52 1 55 2948 7316", Id::DE, Ok(mx)),
            ("044 55 2948 7316", Id::MX, Ok(mx)),
            ("045 55 2948 7316", Id::MX, Ok(mx)),
            ("01 55 2948 7316", Id::MX, Ok(mx)),
            ("55 2948 7316", Id::MX, Ok(mx)),
            // Not Mexico's: no rewrite.
            ("044 55 2948 7316", Id::GB, Err(Rejected::Invalid)),
            ("+54 9 11 2948 7316", Id::AR, Ok(ar)),
            ("011 15 2948-7316", Id::AR, Ok(ar)),
            ("11 15 2948 7316", Id::AR, Ok(ar)),
            ("+54 11 15 2948 7316", Id::US, Ok(ar)),
            ("0351 15 294 8731", Id::AR, Ok("+5493512948731")),
            // A landline in Buenos Aires stays one.
            ("+54 11 2948 7316", Id::AR, Ok("+541129487316")),
            ("+55 11 92948 7316", Id::BR, Ok(br)),
            ("(011) 92948-7316", Id::BR, Ok(br)),
            ("0 21 11 92948 7316", Id::BR, Ok(br)),
            ("0xx41 11 92948-7316", Id::BR, Err(Rejected::Invalid)),
            // An extension is not rewritten.
            ("+52 1 55 2948 7316 x12", Id::MX, Err(Rejected::Invalid)),
            // A German mobile with its code and no `+` (an export): the
            // mobile, not an area code typed without its trunk 0.
            ("4915123984712", Id::DE, Ok("+4915123984712")),
            ("491761234567", Id::DE, Ok("+491761234567")),
            ("015123984712", Id::DE, Ok("+4915123984712")),
        ] {
            assert_eq!(
                normalize_phone_in(raw, region),
                want.map(str::to_string),
                "{raw} in {region:?}"
            );
        }
    }

    #[test]
    fn international_form_is_told_from_national() {
        for raw in [
            "+44 20 7031 3000",
            "tel:+86 139 1024 8876",
            "0044 20 7031 3000",
            "＋８６ １３９",
        ] {
            assert!(typed_internationally(raw), "{raw}");
        }
        for raw in ["020 7031 3000", "139 1024 8876", "(415) 555-2671", ""] {
            assert!(!typed_internationally(raw), "{raw}");
        }
    }

    /// The fast path must answer exactly as the full parser does.
    #[test]
    fn fast_path_agrees_with_libphonenumber() {
        use rand::{Rng, SeedableRng};
        let slow_cn = NormalizeOptions {
            phone_fast_path: None,
            ..NormalizeOptions::default()
        };
        let fast_cn = NormalizeOptions::default();
        assert!(fast_cn.phone_fast_path.is_some());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut decided = 0;
        for i in 0..20_000 {
            let n: u64 = rng.random_range(10_000_000_000..20_000_000_000);
            let s = n.to_string();
            let raw = match i % 5 {
                0 => s.clone(),
                1 => format!("+86 {} {} {}", &s[..3], &s[3..7], &s[7..]),
                2 => format!("0086-{s}"),
                3 => format!("({}) {}-{}", &s[..3], &s[3..7], &s[7..]),
                _ => format!("+86{}", &s[..10]),
            };
            let fast = fast_cn
                .phone_fast_path
                .as_ref()
                .and_then(|f| f.try_normalize(&raw));
            if fast.is_some() {
                decided += 1;
            }
            assert_eq!(
                normalize_phone(&raw, &fast_cn),
                normalize_phone(&raw, &slow_cn),
                "{raw:?}"
            );
        }
        assert!(
            decided > 5_000,
            "the fast path decides the common case ({decided})"
        );
        // Another region's fast path.
        let us_fast = NormalizeOptions::for_region(phonenumber::country::Id::US);
        let us_slow = NormalizeOptions {
            phone_fast_path: None,
            ..us_fast.clone()
        };
        for i in 0..5_000u64 {
            let n: u64 = rng.random_range(2_000_000_000..10_000_000_000) + i % 2;
            let raw = format!("({}) {}-{}", n / 10_000_000, n / 10_000 % 1000, n % 10_000);
            assert_eq!(
                normalize_phone(&raw, &us_fast),
                normalize_phone(&raw, &us_slow),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn e164_output_is_a_fixed_point() {
        for raw in ["139 1024 8876", "+44 20 7031 3000", "+1 (415) 555-2671"] {
            let once = normalize_phone(raw, &NormalizeOptions::default()).expect("valid");
            assert_eq!(
                normalize_phone(&once, &NormalizeOptions::default()),
                Ok(once.clone())
            );
            assert_eq!(normalize_phone(&once, &us()), Ok(once));
        }
    }

    #[test]
    fn line_types_follow_the_metadata() {
        for (e164, line) in [
            ("+8613910248876", PhoneLine::Mobile),
            ("+862161234567", PhoneLine::FixedLine),
            ("+861065529988", PhoneLine::FixedLine),
            ("+447911123456", PhoneLine::Mobile),
            ("+442079460000", PhoneLine::FixedLine),
            ("+4915112345678", PhoneLine::Mobile),
            ("+493012345678", PhoneLine::FixedLine),
            ("+6591234567", PhoneLine::Mobile),
            ("+6561234567", PhoneLine::FixedLine),
            ("+819012345678", PhoneLine::Mobile),
            ("+81312345678", PhoneLine::FixedLine),
            ("+33612345678", PhoneLine::Mobile),
            ("+33142024641", PhoneLine::FixedLine),
            ("+14155552671", PhoneLine::FixedOrMobile),
            ("+16135550123", PhoneLine::FixedOrMobile),
            ("+448001234567", PhoneLine::Other),
            ("+999123", PhoneLine::Other),
            ("13910248876", PhoneLine::Other),
            ("", PhoneLine::Other),
        ] {
            assert_eq!(phone_line(e164), line, "{e164}");
        }
    }

    /// The cheap classifier agrees with libphonenumber's own `number_type`
    /// on every example number the metadata carries, of every region.
    #[test]
    fn line_types_agree_with_libphonenumber() {
        use phonenumber::metadata::DATABASE;
        use phonenumber::Type;
        let mut checked = 0;
        for m in DATABASE.iter() {
            let d = m.descriptors();
            for example in [d.mobile(), d.fixed_line()]
                .into_iter()
                .flatten()
                .filter_map(|x| x.example())
            {
                let e164 = format!("+{}{example}", m.country_code());
                let Ok(number) = phonenumber::parse(None, &e164) else {
                    continue;
                };
                let expected = match number.number_type(&DATABASE) {
                    Type::Mobile => PhoneLine::Mobile,
                    Type::FixedLine => PhoneLine::FixedLine,
                    Type::FixedLineOrMobile => PhoneLine::FixedOrMobile,
                    _ => continue,
                };
                assert_eq!(phone_line(&e164), expected, "{e164} ({})", m.id());
                checked += 1;
            }
        }
        assert!(checked > 300, "only {checked} examples checked");
    }
}
