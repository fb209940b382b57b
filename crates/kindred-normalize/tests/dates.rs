//! Birthdays read against the Unicode CLDR's date formats, as Babel
//! writes them for 46 locales (`data/gen_date_corpus.py` wrote the corpus
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
    let (read, n) = read_corpus(
        include_str!("data/date_corpus.tsv"),
        |locale, format, typed| !unread_on_purpose(locale, format, typed),
    );
    assert!(n > 6000, "{n}");
    // 5,301 of 6,192 at the commit that wrote this (1,830 before it);
    // 5,733 of 6,624 with Arabic's Levantine and Maghreb month names.
    assert!(read > 5000, "{read} of {n} read");
}

/// Reads every birthday of a corpus (`locale`, `day and month order`,
/// `format`, `typed`, `date`): none may be read as another date, and none
/// for which `must_read` holds may be unread. Returns how many were read,
/// of how many.
fn read_corpus(corpus: &str, must_read: impl Fn(&str, &str, &str) -> bool) -> (usize, usize) {
    let today = NaiveDate::from_ymd_opt(2026, 11, 24).expect("date");
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
            Err(e) if must_read(locale, format, typed) => {
                unread.push(format!("{locale} {format} {typed:?} ({date}): {e:?}"))
            }
            Err(_) => {}
        }
    }
    eprintln!("{read} of {n} read");
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
    (read, n)
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

/// Birthdays as ICU writes them in locales whose digits are not ASCII
/// (`data/gen_digit_corpus.js`: Arabic-Indic, Persian, Devanagari,
/// Bengali, Tamil, Thai, Myanmar, Khmer, Tibetan...): read as the date
/// they are, or not at all. Every one written with numbers only and a
/// four-digit year is read, as are the long formats of the locales whose
/// month names kindred knows (Arabic, Hindi, Thai).
#[test]
fn dates_in_other_scripts_digits_read_as_icu_writes_them() {
    let (read, n) = read_corpus(
        include_str!("data/digit_corpus.tsv"),
        |locale, format, typed| {
            let numbers_only = !typed.chars().any(char::is_alphabetic);
            let four_digit_year = typed
                .split(|c: char| !c.is_numeric())
                .any(|n| n.chars().count() == 4);
            let known_months =
                ["ar-", "hi-", "th-"].iter().any(|l| locale.starts_with(l)) && format != "full";
            (numbers_only || known_months) && four_digit_year
        },
    );
    assert!(n > 3500, "{n}");
    // 1,192 of 3,741 at the commit that wrote this (none before it).
    assert!(read > 1100, "{read} of {n} read");
}

/// Every date of the CLDR corpus reads the same with its digits written in
/// another script's (as a keyboard of that script types them).
#[test]
fn a_date_reads_the_same_in_any_scripts_digits() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 24).expect("date");
    let corpus = include_str!("data/date_corpus.tsv");
    // Arabic-Indic, Persian, Devanagari, Tamil, Thai, Tibetan, Khmer.
    let zeros = [0x0660u32, 0x06F0, 0x0966, 0x0BE6, 0x0E50, 0x0F20, 0x17E0];
    let mut n = 0;
    for line in corpus.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let [_, _, _, typed, _] = f.as_slice() else {
            panic!("bad line {line:?}");
        };
        for order in [DateOrder::DayFirst, DateOrder::MonthFirst] {
            let ascii = normalize_birthday(typed, order, today);
            for zero in zeros {
                let other: String = typed
                    .chars()
                    .map(|c| match c.to_digit(10) {
                        Some(d) => char::from_u32(zero + d).expect("a digit"),
                        None => c,
                    })
                    .collect();
                assert_eq!(
                    normalize_birthday(&other, order, today),
                    ascii,
                    "{typed:?} as {other:?}"
                );
                n += 1;
            }
        }
    }
    assert!(n > 80_000, "{n}");
}
