//! Dates as people type them, to ISO 8601 (`YYYY-MM-DD`).

use chrono::{Datelike, NaiveDate};

use crate::date_words::{DATE_WORDS, MONTH_NAMES};
use crate::text::{ascii_digits, fold, Rejected};
use crate::DateOrder;

/// Parses a date of birth. `today` bounds it: no birthdays in the future, none
/// before 1900. Common placeholders (`1900-01-01`, `1970-01-01`,
/// `1969-12-31`, today's date) are junk. Digits of other scripts are read
/// as the digits they are (`١٧‏/٥‏/١٩٩٠`, `१७ मई १९९०`); a year of another
/// calendar in them is no birthday (a Solar Hijri `۱۳۶۹/۲/۲۷` is before
/// 1900), but for the Buddhist era's, below.
pub fn normalize_birthday(
    raw: &str,
    order: DateOrder,
    today: NaiveDate,
) -> Result<String, Rejected> {
    let s = ascii_digits(&fold(raw));
    if s.is_empty() {
        return Err(Rejected::Empty);
    }
    let date = parse_date(&s, order).ok_or(Rejected::Invalid)?;
    // A year of the Buddhist era, as Thai (and Lao, Cambodian) systems
    // write dates: 2533 is 1990. No one alive was born in 2400-2700 CE.
    let date = match date.year() {
        2400..=2700 => {
            NaiveDate::from_ymd_opt(date.year() - 543, date.month(), date.day()).unwrap_or(date)
        }
        _ => date,
    };
    if date > today || date.year() < 1900 {
        return Err(Rejected::Invalid);
    }
    // Placeholders: a form's first year, the Unix epoch (and the epoch
    // shown as a local date in the Americas), a date picker left on today.
    let ymd = (date.year(), date.month(), date.day());
    if matches!(ymd, (1900 | 1901 | 1970, 1, 1) | (1969, 12, 31)) || date == today {
        return Err(Rejected::Junk);
    }
    Ok(date.format("%Y-%m-%d").to_string())
}

fn parse_date(s: &str, order: DateOrder) -> Option<NaiveDate> {
    if let Some(date) = epoch_millis_date(s) {
        return Some(date);
    }
    let (s, next_day) = without_time(s);
    let date = parse_day(s, order)?;
    if next_day {
        date.succ_opt()
    } else {
        Some(date)
    }
}

/// A birthday as milliseconds since 1970 (what Jackson writes for a
/// `java.util.Date` by default: `642873600000`, China's midnight of 17 May
/// 1990; negative before 1970), as the date of its nearest midnight by
/// [`without_time`]'s rule (from 13:00 UTC the next day's). Only a number
/// of 11 to 13 digits (1970-04 to 2286, and 1653 to 1969-09 negative) that
/// is a whole quarter of an hour, as every zone's midnight is: another
/// number typed into the field (a mobile number, `13910248876`, or one
/// with its country code, `447911123456`) is one by chance once in 900,000.
fn epoch_millis_date(s: &str) -> Option<NaiveDate> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !(11..=13).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms: i64 = s.parse().ok()?;
    const QUARTER_HOUR_MS: i64 = 900_000;
    const HOUR_MS: i64 = 3_600_000;
    if ms % QUARTER_HOUR_MS != 0 {
        return None;
    }
    let instant = chrono::DateTime::from_timestamp_millis(ms + 11 * HOUR_MS)?;
    Some(instant.date_naive())
}

/// A date with a time of day (`1990-05-17T00:00:00Z`, `1990-05-17
/// 00:00:00`, `5/17/1990 12:00:00 AM`): the date part, and whether the
/// birthday is the day after it.
///
/// A birthday sent as a timestamp in UTC (or another stated zone) is a
/// local midnight that the sender's serializer converted: China's midnight
/// of the 17th is `1990-05-16T16:00:00Z`. From 13:00 in the stated zone the
/// nearest midnight is the next day's (zones east of it up to UTC+11);
/// noon stays on its day, as systems that store dates at noon write them.
/// A time with no zone is local: its date stands. An ISO date followed by
/// a time this does not read keeps its date, as before.
fn without_time(s: &str) -> (&str, bool) {
    for (i, c) in s.char_indices() {
        if c == 'T' || c == ' ' {
            if let Some((hour, zoned)) = time_of(&s[i + 1..]) {
                return (s[..i].trim_end(), zoned && hour >= 13);
            }
            if c == 'T' && i == 10 {
                return (&s[..i], false);
            }
        }
    }
    (s, false)
}

/// The hour (0-23) of a time of day such as `16:00`, `16:00:00.000Z`,
/// `00:00:00+08:00[Asia/Shanghai]` or `12:00:00 AM`, and whether it states
/// its zone; `None` if `t` is not one.
fn time_of(t: &str) -> Option<(u32, bool)> {
    let (hour, rest) = t.split_once(':')?;
    let hour: u32 = hour.parse().ok().filter(|h| *h < 24)?;
    let minute_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    if minute_end != 2 {
        return None;
    }
    // Seconds and fractions, then AM/PM or a zone.
    let rest = rest[2..].trim_start_matches(|c: char| c.is_ascii_digit() || c == ':' || c == '.');
    let rest = rest.trim();
    let (meridiem, zone) = match rest.get(..2).map(str::to_ascii_uppercase).as_deref() {
        Some("AM") => (Some(false), rest[2..].trim()),
        Some("PM") => (Some(true), rest[2..].trim()),
        _ => (None, rest),
    };
    // A region id after the offset (Java's `ZonedDateTime`) adds nothing.
    let zone = match zone.find('[') {
        Some(b) if zone.ends_with(']') => zone[..b].trim_end(),
        _ => zone,
    };
    let offset = |z: &str| {
        (z.starts_with('+') || z.starts_with('-'))
            && z.len() > 1
            && z[1..].chars().all(|c| c.is_ascii_digit() || c == ':')
    };
    if !(zone.is_empty() || ["Z", "UTC", "GMT"].contains(&zone) || offset(zone)) {
        return None;
    }
    let hour = match meridiem {
        None => hour,
        Some(_) if hour == 0 || hour > 12 => return None,
        Some(pm) => hour % 12 + if pm { 12 } else { 0 },
    };
    Some((hour, !zone.is_empty()))
}

fn parse_day(s: &str, order: DateOrder) -> Option<NaiveDate> {
    // Year first (unambiguous): 1990-05-17, 1990/5/17, 1990.05.17, 19900517, 1990年5月17日.
    for fmt in [
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%Y.%m.%d",
        "%Y年%m月%d日",
        "%Y年%m月%d号",
    ] {
        if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
            return Some(d);
        }
    }
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        let number = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
        return calendar_date(number(0..4)?, number(4..6)?, number(6..8)?);
    }
    written_date(s, order)
}

/// The Gregorian day of `year`, `month`, `day`, a year of the Buddhist era
/// (2400-2700, as Thai systems write dates) taken back 543 years first: a
/// Buddhist-era leap year is never a Gregorian one (2535 is 1992), so its
/// 29 February is no day until the year is converted.
fn calendar_date(year: u32, month: u32, day: u32) -> Option<NaiveDate> {
    let year = i32::try_from(year).ok()?;
    let year = if (2400..=2700).contains(&year) {
        year - 543
    } else {
        year
    };
    NaiveDate::from_ymd_opt(year, month, day)
}

/// What a token of a written date is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    /// A number, with the unit typed after it (`1990年`, `5월`) or before
    /// it (Vietnamese `tháng 5`), if any, and how many digits it has.
    Number(u32, usize, Option<Unit>),
    /// A month by its name (`May`, `mai`, `мая`, `května`).
    Month(u32),
    /// A year of an era ([`ERAS`], by index): `平成2年` is (Heisei, 2).
    EraYear(usize, u32),
}

/// The calendar eras a birthday is written in: Japan's imperial eras
/// (`平成2年5月17日`, `H2/5/17`, `平成元年` its first year) and Taiwan's
/// Minguo years (`民國79年`), each by its names and the Gregorian day its
/// first year starts on; an era ends where the next of its calendar
/// begins (Showa 64 is 1989-01-01 to 01-07, then Heisei 1).
struct Era {
    names: &'static [&'static str],
    start: (i32, u32, u32),
    /// The first day of the next era of the same calendar.
    end: Option<(i32, u32, u32)>,
    /// The year its first year is counted from (`start`'s, but for Meiji,
    /// counted from 1868 while the Gregorian calendar came in 1873).
    first_year: i32,
}

const ERAS: &[Era] = &[
    Era {
        names: &["明治", "m"],
        start: (1873, 1, 1),
        end: Some((1912, 7, 30)),
        first_year: 1868,
    },
    Era {
        names: &["大正", "t"],
        start: (1912, 7, 30),
        end: Some((1926, 12, 25)),
        first_year: 1912,
    },
    Era {
        names: &["昭和", "s"],
        start: (1926, 12, 25),
        end: Some((1989, 1, 8)),
        first_year: 1926,
    },
    Era {
        names: &["平成", "h"],
        start: (1989, 1, 8),
        end: Some((2019, 5, 1)),
        first_year: 1989,
    },
    Era {
        names: &["令和", "r"],
        start: (2019, 5, 1),
        end: None,
        first_year: 2019,
    },
    Era {
        names: &["民國", "民国"],
        start: (1912, 1, 1),
        end: None,
        first_year: 1912,
    },
];

/// The era a word names, and whether it is written with its first year
/// (`平成元`, the `元年` of the era, whose `年` the tokens dropped). One
/// Latin letter names an era only right before its year (`H2`, `H元年`).
fn era_named(word: &str, before_number: bool) -> Option<(usize, bool)> {
    let (name, first) = match word.strip_suffix('元') {
        Some(name) => (name, true),
        None => (word, false),
    };
    let era = ERAS.iter().position(|e| e.names.contains(&name))?;
    let letter = name.len() == 1;
    (!letter || first || before_number).then_some((era, first))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Year,
    Month,
    Day,
}

/// A date written with its numbers and words in any of the orders and
/// languages people and the Unicode CLDR's locale formats write them
/// (`17 May 1990`, `May 17th, 1990`, `Donnerstag, 17. Mai 1990`, `17 de
/// mayo de 1990`, `17 мая 1990 г.`, `1990년 5월 17일`, `17 tháng 5, 1990`,
/// `17.05.1990`, `1990. 5. 17.`): a year of four digits, a month by name
/// or by number, a day. Weekday names and the formats' own words are
/// passed over ([`DATE_WORDS`]); any other word, a second month name or
/// a number too many and it is no date. Day and month both numbers are
/// read year first (`1990/5/17`, no locale writes year, day, month), else
/// in `order` unless one of them is over 12.
fn written_date(s: &str, order: DateOrder) -> Option<NaiveDate> {
    let parts = date_parts(s)?;
    let mut year = None;
    let mut month = None;
    let mut day = None;
    let mut loose: Vec<u32> = Vec::new();
    let mut year_first = false;
    let mut era = None;
    for part in &parts {
        let slot = match *part {
            Part::EraYear(e, n) => {
                if era.replace(e).is_some() || n == 0 {
                    return None;
                }
                year_first = loose.is_empty() && month.is_none() && day.is_none();
                // Never a Buddhist-era year (2400 and on), which the
                // caller would take back 543 years.
                let y = u32::try_from(ERAS[e].first_year)
                    .ok()?
                    .checked_add(n - 1)
                    .filter(|y| *y < 2400)?;
                (&mut year, y)
            }
            Part::Month(m) => (&mut month, m),
            Part::Number(n, _, Some(Unit::Year)) => (&mut year, n),
            Part::Number(n, _, Some(Unit::Month)) => (&mut month, n),
            Part::Number(n, _, Some(Unit::Day)) => (&mut day, n),
            Part::Number(n, digits, None) if digits >= 3 => {
                year_first = loose.is_empty() && month.is_none() && day.is_none();
                (&mut year, n)
            }
            Part::Number(n, _, None) => {
                loose.push(n);
                continue;
            }
        };
        if slot.0.replace(slot.1).is_some() {
            return None;
        }
    }
    let year = year.filter(|y| *y >= 1000)?;
    let (month, day) = match (month, day, loose.as_slice()) {
        (Some(m), Some(d), []) | (Some(m), None, &[d]) | (None, Some(d), &[m]) => (m, d),
        (None, None, [a, b]) => {
            let (a, b) = (*a, *b);
            match (a > 12, b > 12) {
                (true, true) => return None,
                _ if year_first => (a, b),
                (true, false) => (b, a),
                (false, true) => (a, b),
                (false, false) => match order {
                    DateOrder::DayFirst => (b, a),
                    DateOrder::MonthFirst => (a, b),
                },
            }
        }
        _ => return None,
    };
    let date = calendar_date(year, month, day)?;
    if let Some(e) = era {
        // A day outside the era is no day of it (`平成元年1月7日`).
        let day_of = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d);
        let era = &ERAS[e];
        if day_of(era.start).is_some_and(|s| date < s)
            || era.end.and_then(day_of).is_some_and(|end| date >= end)
        {
            return None;
        }
    }
    Some(date)
}

/// The numbers and month names of a written date, or None if it holds a
/// word that is neither a month nor one of [`DATE_WORDS`].
fn date_parts(s: &str) -> Option<Vec<Part>> {
    let mut tokens: Vec<Token> = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut digits = c.to_string();
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                digits.push(d);
            }
            let unit = chars.next_if(|u| unit_of(*u).is_some()).and_then(unit_of);
            let n = digits.parse().ok()?;
            tokens.push(Token::Number(n, digits.len(), unit));
        } else if is_word_char(c) {
            let mut word = String::new();
            push_folded(c, &mut word);
            while let Some(w) = chars.next_if(|w| is_word_char(*w)) {
                push_folded(w, &mut word);
            }
            tokens.push(Token::Word(word));
        } else if c.is_alphanumeric() && unit_of(c).is_none() {
            // Another script's digits, a letter number (`Ⅻ`).
            return None;
        }
        // Anything else separates: spaces, punctuation, a unit character
        // with no number before it (`木曜日` is read as `木曜` and `日`).
    }
    let mut parts = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Number(n, digits, unit) => parts.push(Part::Number(*n, *digits, *unit)),
            Token::Word(w) => {
                let next = match tokens.get(i + 1) {
                    Some(Token::Word(next)) => Some(next.as_str()),
                    _ => None,
                };
                let before_number = matches!(tokens.get(i + 1), Some(Token::Number(..)));
                if let Some((e, first)) = era_named(w, before_number) {
                    // The era's year: its first (`元年`), or the number after it.
                    if first {
                        parts.push(Part::EraYear(e, 1));
                    } else {
                        match tokens.get(i + 1) {
                            Some(Token::Number(n, _, None | Some(Unit::Year))) => {
                                parts.push(Part::EraYear(e, *n));
                                i += 1;
                            }
                            _ => return None,
                        }
                    }
                } else if ORDINAL_ENDINGS.contains(&w.as_str()) {
                    // `17th`: the day, right after its number; anywhere
                    // else (`5 Mar St 1990`) no date's word.
                    match parts.last_mut() {
                        Some(Part::Number(_, _, unit @ None))
                            if matches!(tokens.get(i.wrapping_sub(1)), Some(Token::Number(..))) =>
                        {
                            *unit = Some(Unit::Day);
                        }
                        _ => return None,
                    }
                } else if let Some(m) = month_named(w) {
                    parts.push(Part::Month(m));
                } else if let Some(m) = next.and_then(|n| month_named(&format!("{w} {n}"))) {
                    // A name abbreviated with an inner dot (Thai `พ.ค.`).
                    parts.push(Part::Month(m));
                    i += 1;
                } else if MONTH_BEFORE_NUMBER.contains(&w.as_str()) {
                    // Vietnamese `tháng 5`: the number after it is the month.
                    match tokens.get(i + 1) {
                        Some(Token::Number(n, digits, None)) => {
                            parts.push(Part::Number(*n, *digits, Some(Unit::Month)));
                            i += 1;
                        }
                        _ => return None,
                    }
                } else if DATE_WORDS.binary_search(&w.as_str()).is_err() {
                    return None;
                }
            }
        }
        i += 1;
    }
    Some(parts)
}

enum Token {
    Number(u32, usize, Option<Unit>),
    Word(String),
}

/// English ordinal endings, read only right after a day's number (`17th`).
const ORDINAL_ENDINGS: &[&str] = &["st", "nd", "rd", "th"];

/// Words after which a number is the month (Vietnamese `tháng`, `thg`).
const MONTH_BEFORE_NUMBER: &[&str] = &["thang", "thg"];

/// The unit a character after a number names (`年`, `월`, `日`).
fn unit_of(c: char) -> Option<Unit> {
    match c {
        '年' | '년' => Some(Unit::Year),
        '月' | '월' => Some(Unit::Month),
        '日' | '号' | '號' | '일' => Some(Unit::Day),
        _ => None,
    }
}

/// A letter or mark of a word (units aside), as the generator of
/// [`DATE_WORDS`] reads one.
fn is_word_char(c: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory};
    unit_of(c).is_none()
        && (crate::text::is_letter_or_mark(c)
            || get_general_category(c) == GeneralCategory::EnclosingMark)
}

/// Appends `c` lower-cased without the accents of Latin, Greek and
/// Cyrillic letters (`é` is `e`, `й` is `и`); other scripts' marks stay
/// (Thai `มี.ค.` is not `ม.ค.`).
fn push_folded(c: char, out: &mut String) {
    use unicode_normalization::UnicodeNormalization;
    for l in c.to_lowercase() {
        out.extend(
            std::iter::once(l)
                .nfd()
                .filter(|d| !('\u{300}'..='\u{36f}').contains(d))
                .nfc(),
        );
    }
}

fn month_named(word: &str) -> Option<u32> {
    MONTH_NAMES
        .binary_search_by(|(name, _)| name.cmp(&word))
        .ok()
        .map(|i| MONTH_NAMES[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).expect("valid")
    }

    #[test]
    fn table() {
        let day = DateOrder::DayFirst;
        let month = DateOrder::MonthFirst;
        let cases: &[(&str, DateOrder, Result<&str, Rejected>)] = &[
            ("1990-05-17", day, Ok("1990-05-17")),
            // The Buddhist era's year (Thailand): 2533 BE is 1990 CE.
            ("2533-05-17", day, Ok("1990-05-17")),
            ("17/05/2533", day, Ok("1990-05-17")),
            // Its leap day (2535 is 1992), which is no Gregorian day of 2535.
            ("2535-02-29", day, Ok("1992-02-29")),
            ("29/02/2535", day, Ok("1992-02-29")),
            ("25350229", day, Ok("1992-02-29")),
            ("2534-02-29", day, Err(Rejected::Invalid)),
            ("2999-05-17", day, Err(Rejected::Invalid)),
            ("1990/5/17", day, Ok("1990-05-17")),
            ("1990.05.17", day, Ok("1990-05-17")),
            ("19900517", day, Ok("1990-05-17")),
            // Milliseconds since 1970, as Jackson writes a Date: the
            // nearest midnight (China's, UTC's, New York's); before 1970.
            ("642873600000", day, Ok("1990-05-17")),
            ("642902400000", day, Ok("1990-05-17")),
            ("642916800000", day, Ok("1990-05-17")),
            ("-157766400000", day, Ok("1965-01-01")),
            // Eleven digits: 1970 to 1973, and 1966 to 1969.
            ("11721600000", day, Ok("1970-05-17")),
            ("-86486400000", day, Ok("1967-04-06")),
            ("13910248876", day, Err(Rejected::Invalid)),
            // Not a quarter hour: a phone number with its country code.
            ("447911123456", day, Err(Rejected::Invalid)),
            ("1990年5月17日", day, Ok("1990-05-17")),
            ("１９９０年５月１７日", day, Ok("1990-05-17")),
            // Other scripts' digits; another calendar's year is no birthday
            // (Solar Hijri 1369, Hijri 1410), but for the Buddhist era's.
            ("١٧\u{200f}/٥\u{200f}/١٩٩٠", day, Ok("1990-05-17")),
            ("१७ मई १९९०", day, Ok("1990-05-17")),
            ("١٧ أيار ١٩٩٠", day, Ok("1990-05-17")),
            ("๑๗/๕/๒๕๓๓", day, Ok("1990-05-17")),
            ("۱۳۶۹/۲/۲۷", day, Err(Rejected::Invalid)),
            ("١٤١٠/١٠/٢٢", day, Err(Rejected::Invalid)),
            ("1990-05-17T00:00:00Z", day, Ok("1990-05-17")),
            // Timestamps: the nearest midnight is the birthday.
            ("1990-05-16T16:00:00.000Z", day, Ok("1990-05-17")),
            ("1990-05-17T05:00:00Z", day, Ok("1990-05-17")),
            ("1990-05-17T00:00:00+08:00", day, Ok("1990-05-17")),
            ("1990-05-17 00:00:00", day, Ok("1990-05-17")),
            // No zone: a local time, its date stands.
            ("1990-05-16 16:00", day, Ok("1990-05-16")),
            // Noon stays on its day.
            ("1990-05-17T12:00:00Z", day, Ok("1990-05-17")),
            ("1990-05-16T16:00:00 GMT", day, Ok("1990-05-17")),
            (
                "1990-05-17T00:00:00+08:00[Asia/Shanghai]",
                day,
                Ok("1990-05-17"),
            ),
            // Times this does not read keep an ISO date, as before.
            ("1990-05-17T24:00:00", day, Ok("1990-05-17")),
            ("1990-05-17T000000Z", day, Ok("1990-05-17")),
            ("5/17/1990 12:00:00 AM", month, Ok("1990-05-17")),
            ("17/05/1990 00:00", day, Ok("1990-05-17")),
            ("1990-05-17 lunch", day, Err(Rejected::Invalid)),
            ("1990-12-31T16:00:00Z", day, Ok("1991-01-01")),
            ("17/05/1990", day, Ok("1990-05-17")),
            ("17/05/1990", month, Ok("1990-05-17")),
            ("05/17/1990", day, Ok("1990-05-17")),
            ("03/04/1990", day, Ok("1990-04-03")),
            ("03/04/1990", month, Ok("1990-03-04")),
            ("17.05.1990", day, Ok("1990-05-17")),
            ("17-05-1990", day, Ok("1990-05-17")),
            ("17 May 1990", day, Ok("1990-05-17")),
            ("May 17, 1990", day, Ok("1990-05-17")),
            ("17-May-1990", day, Ok("1990-05-17")),
            ("2000-02-29", day, Ok("2000-02-29")),
            ("", day, Err(Rejected::Empty)),
            ("1990-02-30", day, Err(Rejected::Invalid)),
            ("1900-02-29", day, Err(Rejected::Invalid)),
            ("13/13/1990", day, Err(Rejected::Invalid)),
            ("17/05/90", day, Err(Rejected::Invalid)),
            ("2030-01-01", day, Err(Rejected::Invalid)),
            ("1850-01-01", day, Err(Rejected::Invalid)),
            ("1900-01-01", day, Err(Rejected::Junk)),
            ("1970-01-01", day, Err(Rejected::Junk)),
            ("1969-12-31", day, Err(Rejected::Junk)),
            ("12/31/1969", month, Err(Rejected::Junk)),
            // A date picker left on today.
            ("2026-11-24", day, Err(Rejected::Junk)),
            ("2026-11-23", day, Ok("2026-11-23")),
            ("1969-12-30", day, Ok("1969-12-30")),
            ("yesterday", day, Err(Rejected::Invalid)),
            // Written dates: any language CLDR writes, ordinals, a weekday.
            ("May 17th, 1990", month, Ok("1990-05-17")),
            ("the 17th of May 1990", day, Ok("1990-05-17")),
            ("Thursday, 17 May 1990", day, Ok("1990-05-17")),
            ("17. Mai 1990", day, Ok("1990-05-17")),
            ("17 de mayo de 1990", month, Ok("1990-05-17")),
            ("17 fevrier 1990", day, Ok("1990-02-17")),
            ("1990년 5월 17일", day, Ok("1990-05-17")),
            ("17 tháng 3, 1990", month, Ok("1990-03-17")),
            ("3 tháng 4, 1990", month, Ok("1990-04-03")),
            ("1990. 5. 3.", month, Ok("1990-05-03")),
            ("3. 5. 1990", day, Ok("1990-05-03")),
            // Two months, a word that is no date's, a number too many.
            ("May 17 June 1990", day, Err(Rejected::Invalid)),
            ("17 May 1990 lunch", day, Err(Rejected::Invalid)),
            ("17 5 1990 12", day, Err(Rejected::Invalid)),
            ("17 listopad 1990", day, Err(Rejected::Invalid)),
            // An ordinal ending names the day, and only after a number: an
            // address is no date.
            ("3rd 5 1990", month, Ok("1990-05-03")),
            ("5 Mar St 1990", day, Err(Rejected::Invalid)),
            ("12 May St 2000", day, Err(Rejected::Invalid)),
        ];
        for (raw, order, want) in cases {
            assert_eq!(
                normalize_birthday(raw, *order, today()).as_deref(),
                want.as_deref(),
                "{raw:?}"
            );
        }
    }
}
