//! Dates as people type them, to ISO 8601 (`YYYY-MM-DD`).

use chrono::{Datelike, NaiveDate};

use crate::text::{fold, Rejected};
use crate::DateOrder;

/// Parses a date of birth. `today` bounds it: no birthdays in the future, none
/// before 1900. Common placeholders (`1900-01-01`, `1970-01-01`,
/// `1969-12-31`, today's date) are junk.
pub fn normalize_birthday(
    raw: &str,
    order: DateOrder,
    today: NaiveDate,
) -> Result<String, Rejected> {
    let s = fold(raw);
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
    let (s, next_day) = without_time(s);
    let date = parse_day(s, order)?;
    if next_day {
        date.succ_opt()
    } else {
        Some(date)
    }
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
        return NaiveDate::parse_from_str(s, "%Y%m%d").ok();
    }
    // Month names: 17 May 1990, May 17, 1990, 17-May-1990.
    for fmt in [
        "%d %B %Y",
        "%B %d, %Y",
        "%B %d %Y",
        "%d %b %Y",
        "%b %d, %Y",
        "%b %d %Y",
        "%d-%b-%Y",
    ] {
        if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
            return Some(d);
        }
    }
    // Day and month in some order, then a four-digit year.
    let parts: Vec<&str> = s.split(['/', '-', '.']).collect();
    if let [a, b, y] = parts.as_slice() {
        let (a, b, y): (u32, u32, i32) = (a.parse().ok()?, b.parse().ok()?, y.parse().ok()?);
        if y < 1000 {
            return None;
        }
        let (day, month) = match (a > 12, b > 12, order) {
            (true, false, _) => (a, b),
            (false, true, _) => (b, a),
            (false, false, DateOrder::DayFirst) => (a, b),
            (false, false, DateOrder::MonthFirst) => (b, a),
            (true, true, _) => return None,
        };
        return NaiveDate::from_ymd_opt(y, month, day);
    }
    None
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
            ("2999-05-17", day, Err(Rejected::Invalid)),
            ("1990/5/17", day, Ok("1990-05-17")),
            ("1990.05.17", day, Ok("1990-05-17")),
            ("19900517", day, Ok("1990-05-17")),
            ("1990年5月17日", day, Ok("1990-05-17")),
            ("１９９０年５月１７日", day, Ok("1990-05-17")),
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
