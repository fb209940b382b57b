//! Birthdays read against the Unicode CLDR's date formats, as Babel
//! writes them for 43 locales (`data/gen_date_corpus.py` wrote the corpus
//! and `src/date_words.rs`): every locale's full, long, medium and short
//! format of dates in every month. A date is read as the date it is, or
//! not at all (a short format's two-digit year says no century); never as
//! another date.

use kindred_normalize::{normalize_birthday, DateOrder, NaiveDate};

/// Formats kindred does not read, each for its reason.
fn unread_on_purpose(locale: &str, format: &str, typed: &str) -> bool {
    let two_digit_year = typed
        .split(|c: char| !c.is_ascii_digit())
        .all(|n| n.len() < 3);
    two_digit_year
        || match (locale, format) {
            // `במאי`: the month with a preposition joined to it.
            ("he_IL", "full" | "long" | "medium") => true,
            // `วันพฤหัสบดีที่`: the weekday joined to a word of the format.
            ("th_TH", "full") => true,
            _ => false,
        }
        // Names two languages give two months (`listopad`), left out.
        || ["listopad", "listopada", "lis", "lip", "srp"]
            .iter()
            .any(|w| typed.to_lowercase().split(|c: char| !c.is_alphabetic()).any(|t| t == *w))
}

#[test]
fn cldr_dates_read_as_the_dates_they_are() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 24).expect("date");
    let corpus = include_str!("data/date_corpus.tsv");
    let (mut wrong, mut unread, mut read, mut n) = (Vec::new(), Vec::new(), 0, 0);
    for line in corpus.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let [locale, order, format, typed, date] = f.as_slice() else {
            panic!("bad line {line:?}");
        };
        n += 1;
        let order = if *order == "month" {
            DateOrder::MonthFirst
        } else {
            DateOrder::DayFirst
        };
        match normalize_birthday(typed, order, today) {
            Ok(got) if got == *date => read += 1,
            Ok(got) => wrong.push(format!("{locale} {format} {typed:?} -> {got}, is {date}")),
            Err(_) if unread_on_purpose(locale, format, typed) => {}
            Err(e) => unread.push(format!("{locale} {format} {typed:?} ({date}): {e:?}")),
        }
    }
    assert!(n > 6000, "{n}");
    // 5,301 of 6,192 at the commit that wrote this (1,830 before it).
    assert!(read > 5000, "{read} of {n} read");
    assert!(
        wrong.is_empty(),
        "{} of {n} read as another date:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        unread.is_empty(),
        "{} of {n} not read ({read} read):\n{}",
        unread.len(),
        unread.join("\n")
    );
}

/// Birthdays in Japan's imperial eras and Taiwan's Minguo years, as ICU
/// writes them (`data/gen_era_corpus.js`, through Node's `Intl`): every one
/// read as the date it is, each era's first and last days among them.
#[test]
fn era_dates_read_as_icu_writes_them() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 24).expect("date");
    let corpus = include_str!("data/era_corpus.tsv");
    let (mut wrong, mut n) = (Vec::new(), 0);
    for line in corpus.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let [format, typed, date] = f.as_slice() else {
            panic!("bad line {line:?}");
        };
        n += 1;
        for order in [DateOrder::DayFirst, DateOrder::MonthFirst] {
            let got = normalize_birthday(typed, order, today);
            if got.as_deref() != Ok(*date) {
                wrong.push(format!("{format} {typed:?} -> {got:?}, is {date}"));
            }
        }
    }
    assert!(n > 1500, "{n}");
    assert!(
        wrong.is_empty(),
        "{} of {n}:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // A day outside its era, an era with no year, the year 0.
    for typed in [
        "平成元年1月7日",
        "昭和64年1月8日",
        "平成5月17日",
        "平成0年5月17日",
        "H 5/17",
        // A year too large for any era (second review, H70): no panic,
        // and not a Buddhist-era year either.
        "H4294965307/5/17",
        "民國4294965384/1/1",
        "R450/5/17",
        "民國600年5月17日",
    ] {
        assert!(
            normalize_birthday(typed, DateOrder::DayFirst, today).is_err(),
            "{typed}"
        );
    }
}
