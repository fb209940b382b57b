//! Currencies read against ISO 4217 as pycountry (the Debian iso-codes
//! data) gives it; `data/gen_currency_corpus.py` wrote the corpus. An
//! order's currency keys the profile's spend totals and, for a till, says
//! which country its customers' national phone numbers are read in.

use kindred_normalize::normalize_currency;
use phonenumber::country::Id;

/// The ISO 4217 units that are no money a shop takes: precious metals,
/// bond-market units, special drawing rights, regional accounting units,
/// the test code and `XXX` (no currency).
const NOT_MONEY: &[&str] = &[
    "XAD", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA",
    "XXX",
];

/// Every ISO 4217 currency reads as itself by its code in any case and by
/// its numeric code; the units in [`NOT_MONEY`] read as none.
#[test]
fn every_iso_currency_is_read_by_its_codes() {
    let corpus = include_str!("data/currency_corpus.tsv");
    let (mut wrong, mut n) = (Vec::new(), 0);
    for line in corpus.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (alpha, numeric, name) = (f[0], f[1], f[2]);
        n += 1;
        let want = (!NOT_MONEY.contains(&alpha)).then_some(alpha);
        // The numeric code as a JSON number carries it, without its
        // leading zeros (036: 36).
        let unpadded = numeric.trim_start_matches('0').to_string();
        for text in [
            alpha.to_string(),
            alpha.to_lowercase(),
            numeric.to_string(),
            unpadded,
        ] {
            let got = normalize_currency(&text, Id::CN);
            if got.as_deref() != want {
                wrong.push(format!("{text:?} ({name}) -> {got:?}, want {want:?}"));
            }
        }
    }
    assert!(n > 170, "{n}");
    assert!(
        wrong.is_empty(),
        "{} of {n}:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Three letters that are no ISO code are no currency: before, any three
/// capitals were taken and made a spend total of their own.
#[test]
fn three_letters_that_are_no_iso_code_are_no_currency() {
    for text in [
        "ABC", "EUD", "RMD", "YNE", "usdd", "US", "000", "1000", "0", "9",
    ] {
        assert_eq!(normalize_currency(text, Id::CN), None, "{text}");
    }
    // What tills print besides the codes.
    for (text, want) in [
        ("RMB", "CNY"),
        ("人民币", "CNY"),
        ("NTD", "TWD"),
        ("港币", "HKD"),
        ("美元", "USD"),
        ("Euro", "EUR"),
        // The currency's name as a word (no ISO code, but no doubt).
        ("Yen", "JPY"),
        // Superseded and withdrawn codes stay readable for the orders made
        // in them.
        ("HRK", "HRK"),
        ("BGN", "BGN"),
        ("ANG", "ANG"),
        ("ltl", "LTL"),
        ("VEF", "VEF"),
        // The offshore renminbi is the renminbi.
        ("CNH", "CNY"),
        // A numeric code that lost its leading zero on the way (a JSON
        // number, a spreadsheet): 012, the Algerian dinar.
        ("12", "DZD"),
        // Signs tills print (helper-195).
        ("R$", "BRL"),
        ("zł", "PLN"),
        ("₺", "TRY"),
        ("₪", "ILS"),
        ("Rp", "IDR"),
    ] {
        assert_eq!(
            normalize_currency(text, Id::CN).as_deref(),
            Some(want),
            "{text}"
        );
    }
    // `kr` is the region's krone or krona, and no currency elsewhere.
    for (region, want) in [
        (Id::SE, Some("SEK")),
        (Id::NO, Some("NOK")),
        (Id::DK, Some("DKK")),
        (Id::CN, None),
    ] {
        assert_eq!(
            normalize_currency("kr", region).as_deref(),
            want,
            "{region:?}"
        );
    }
}
