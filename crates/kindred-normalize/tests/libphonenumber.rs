//! kindred's phone normalizer read against libphonenumber itself: numbers
//! of every region, valid or not, as its Python port (`phonenumbers`, at
//! the metadata version of the Rust `phonenumber` crate kindred uses) reads
//! them. `data/gen_phone_corpus.py` wrote the two files.

use kindred_normalize::{normalize_phone_in, Rejected};

/// One line of a corpus file and what kindred made of it.
struct Case<'a> {
    region: &'a str,
    text: &'a str,
    e164: &'a str,
    kind: &'a str,
    got: Result<String, Rejected>,
}

fn read(corpus: &str) -> Vec<Case<'_>> {
    corpus
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 5, "{line}");
            let region: phonenumber::country::Id = f[0].parse().expect("a region");
            Case {
                region: f[0],
                text: f[2],
                e164: f[3],
                kind: f[4],
                got: normalize_phone_in(f[2], region),
            }
        })
        .collect()
}

/// Numbers no one person answers: kindred refuses them as a business's.
fn business(kind: &str) -> bool {
    matches!(
        kind,
        "toll_free" | "premium" | "shared_cost" | "uan" | "voicemail"
    )
}

/// Whether kindred reads a valid number otherwise than libphonenumber (a
/// business's must be refused as such).
fn reads_otherwise(c: &Case<'_>) -> bool {
    if business(c.kind) {
        c.got != Err(Rejected::Business)
    } else {
        c.got.as_deref() != Ok(c.e164)
    }
}

fn show(cases: &[&Case<'_>]) -> String {
    cases
        .iter()
        .map(|c| {
            format!(
                "{} {:?} -> {:?} (libphonenumber: {} {})",
                c.region, c.text, c.got, c.e164, c.kind
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every valid number of every region and type, in E.164, international,
/// national and RFC 3966 forms and dialled with 00 from Germany and from
/// Lithuania, reads as libphonenumber reads it; a business's is refused as
/// such. (Before kindred read numbers by the metadata's patterns itself,
/// 566 of these 11,820 differed: every Russian number with an area code
/// starting with 8, St Petersburg's 812 among them, Belarusian national
/// forms, toll-free numbers whose national number starts with 0, and
/// numbers dialled with 00 from a region whose national prefix starts
/// them.)
#[test]
fn every_region_and_type_reads_as_libphonenumber_reads_it() {
    let cases = read(include_str!("data/phone_corpus.tsv"));
    assert!(cases.len() > 11_000, "{}", cases.len());
    let differ: Vec<&Case<'_>> = cases.iter().filter(|c| reads_otherwise(c)).collect();
    assert!(
        differ.is_empty(),
        "{} differ:\n{}",
        differ.len(),
        show(&differ)
    );
}

/// Random digits in every region: no number libphonenumber calls invalid
/// is taken, and valid ones read as it reads them but for the few listed.
#[test]
fn random_digits_are_taken_only_when_libphonenumber_takes_them() {
    let cases = read(include_str!("data/phone_random.tsv"));
    // kindred's one reading of its own: `00` before a number is the
    // international prefix of most of the world, also where the region
    // dials abroad otherwise (North America's 011).
    let after_00 = |c: &Case<'_>| {
        c.text
            .strip_prefix("00")
            .is_some_and(|rest| c.got.as_deref() == Ok(format!("+{rest}").as_str()))
    };
    let invalid_taken: Vec<&Case<'_>> = cases
        .iter()
        .filter(|c| c.kind == "invalid" && c.got.is_ok() && !after_00(c))
        .collect();
    assert!(invalid_taken.is_empty(), "{}", show(&invalid_taken));
    // Known, and refused (never read as another number): a short number
    // of a region that rewrites rather than strips a prefix (Norfolk
    // Island's `3` before five digits, Christmas Island's `8` before an
    // area code: their metadata's transform rule), and `1` typed again
    // after +1.
    const KNOWN: [(&str, &str); 15] = [
        ("AI", "+119065061780"),
        ("CX", "99398295"),
        ("KY", "+115812539282"),
        ("NF", "+67256691"),
        ("NF", "56691"),
        ("NF", "+67215447"),
        ("NF", "15447"),
        ("NF", "+67210534"),
        ("NF", "10534"),
        ("NF", "+67250981"),
        ("NF", "50981"),
        ("NF", "+67210075"),
        ("NF", "10075"),
        ("NF", "+67210873"),
        ("NF", "10873"),
    ];
    let known = |c: &Case<'_>| KNOWN.contains(&(c.region, c.text));
    let wrong: Vec<&Case<'_>> = cases.iter().filter(|c| known(c) && c.got.is_ok()).collect();
    assert!(wrong.is_empty(), "{}", show(&wrong));
    let differ: Vec<&Case<'_>> = cases
        .iter()
        .filter(|c| c.kind != "invalid" && !known(c))
        .filter(|c| reads_otherwise(c))
        .collect();
    let valid = cases.iter().filter(|c| c.kind != "invalid").count();
    assert!(valid > 3_000, "{valid}");
    assert!(
        differ.is_empty(),
        "{} of {valid} differ:\n{}",
        differ.len(),
        show(&differ)
    );
}
