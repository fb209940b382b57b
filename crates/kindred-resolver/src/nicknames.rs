//! English given names and their nicknames (`robert` / `bob`, `william` /
//! `bill`, `margaret` / `peggy`): one person's names, which no string
//! similarity rates alike. Match rules compare names with them
//! ([`crate::names::token_alike_with_nicknames`]), beside a birthday; an
//! identifier's name guard does not (many nicknames are given names of
//! their own today: a father John and his son Jack share an e-mail).
//!
//! The pairs are the `nicknames` package's (carltonnorthern/nicknames 1.0.1,
//! Apache-2.0; `data/README.md`), one row at a time: `sam` is Samuel's and
//! Samantha's, and that does not make Samuel Samantha. Left out
//! ([`EXCLUDED_CSV`]): a row whose two names are borne by two people of
//! one household as often as by one person (318 pairs read one by one),
//! and one whose two names are both given names today (230 more, by
//! Faker's first-name lists): twins share a family name, a birthday and an
//! address, so a match rule cannot tell them apart; rows naming two
//! genders, and rows that join two unrelated names.

use std::sync::LazyLock;

use foldhash::HashSet;

/// The list as shipped: `name1,relationship,name2`, a header first.
const NICKNAMES_CSV: &str = include_str!("../data/nicknames.csv");

/// Rows of [`NICKNAMES_CSV`] not taken, either way round, as
/// `name1,name2,reason` (see the module documentation and
/// `data/README.md`): `cross_gender` (`jacqueline` / `jack`, `frieda` /
/// `fred`), `independent_names` (two names given independently to two
/// people of one family: `amelia` / `amy`, `ellen` / `helen`, `john` /
/// `ian`), `data_error` (a row joining two unrelated common names:
/// `bill` / `robert`) and `given_names_today` (both names given in their
/// own right today, `data/given_names_today.py`: twins Harry and Henry,
/// Jack and John share a birthday and an address).
/// 548 pairs in all.
const EXCLUDED_CSV: &str = include_str!("../data/nicknames-excluded.csv");

/// The pairs of names of a CSV file's rows (a header line first), as
/// `pick` finds them in each row's fields, each pair ordered.
fn rows(
    csv: &'static str,
    pick: fn(&[&'static str]) -> Option<(&'static str, &'static str)>,
) -> impl Iterator<Item = (&'static str, &'static str)> {
    csv.lines().skip(1).filter_map(move |line| {
        let fields: Vec<&'static str> = line.split(',').collect();
        pick(&fields).map(|(a, b)| ordered(a, b))
    })
}

/// The names of a row of [`NICKNAMES_CSV`] (`name1,relationship,name2`).
fn nickname_row<'a>(fields: &[&'a str]) -> Option<(&'a str, &'a str)> {
    match fields {
        [a, _, b] => Some((a, b)),
        _ => None,
    }
}

/// The names of a row of [`EXCLUDED_CSV`] (`name1,name2,reason`).
fn excluded_row<'a>(fields: &[&'a str]) -> Option<(&'a str, &'a str)> {
    match fields {
        [a, b, _] => Some((a, b)),
        _ => None,
    }
}

/// The pairs, each as (smaller, larger) so that one lookup answers both
/// orders.
static PAIRS: LazyLock<HashSet<(&'static str, &'static str)>> = LazyLock::new(|| {
    let excluded: HashSet<(&str, &str)> = rows(EXCLUDED_CSV, excluded_row).collect();
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_lowercase());
    rows(NICKNAMES_CSV, nickname_row)
        .filter(|&(a, b)| plain(a) && plain(b) && a != b && !excluded.contains(&(a, b)))
        .collect()
});

fn ordered<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Whether two folded given-name tokens are a name and its nickname
/// (either way round; a name is not its own nickname).
pub(crate) fn nickname_pair(a: &str, b: &str) -> bool {
    a != b && PAIRS.contains(&ordered(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_and_its_nickname_are_a_pair_either_way_round() {
        for (a, b) in [
            ("robert", "bob"),
            ("bill", "william"),
            ("margaret", "peggy"),
            ("edward", "ted"),
            ("richard", "dick"),
            ("elizabeth", "liz"),
            ("henry", "hank"),
        ] {
            assert!(nickname_pair(a, b), "{a} / {b}");
            assert!(nickname_pair(b, a), "{b} / {a}");
        }
    }

    #[test]
    fn pairs_are_one_row_each_and_excluded_rows_are_not_pairs() {
        // Sam is Samuel's and Samantha's nickname: no row makes them one.
        assert!(!nickname_pair("samuel", "samantha"));
        assert!(!nickname_pair("robert", "robert"));
        assert!(!nickname_pair("robert", "roberta"));
        assert!(!nickname_pair("", "bob"));
        // Rows of the list left out: two genders, a couple's or siblings'
        // names, a row joining unrelated names.
        for (a, b) in [
            ("jacqueline", "jack"),
            ("frieda", "fred"),
            ("amelia", "amy"),
            ("ellen", "helen"),
            ("john", "ian"),
            ("mary", "marie"),
            ("bill", "robert"),
            ("harry", "henry"),
            ("jack", "john"),
            ("sally", "sarah"),
            ("molly", "mary"),
        ] {
            assert!(!nickname_pair(a, b), "{a} / {b}");
        }
        let excluded: Vec<_> = rows(EXCLUDED_CSV, excluded_row).collect();
        assert!(excluded.len() > 500, "{}", excluded.len());
        for (a, b) in excluded {
            assert!(!nickname_pair(a, b), "{a} / {b} is excluded");
        }
    }

    #[test]
    fn every_excluded_row_is_a_row_of_the_list_with_a_reason() {
        // An exclusion that matches no row is a typo that excludes nothing.
        let list: HashSet<(&str, &str)> = rows(NICKNAMES_CSV, nickname_row).collect();
        for line in EXCLUDED_CSV.lines().skip(1) {
            let fields: Vec<&str> = line.split(',').collect();
            let (a, b) = excluded_row(&fields).unwrap_or_else(|| panic!("{line:?}"));
            assert!(list.contains(&ordered(a, b)), "{line:?} is no row");
            assert!(
                [
                    "cross_gender",
                    "independent_names",
                    "data_error",
                    "given_names_today"
                ]
                .contains(&fields[2]),
                "{line:?}"
            );
        }
    }
}
