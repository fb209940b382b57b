//! Country names and codes read against ISO 3166-1 as pycountry (the
//! Debian iso-codes data) gives them; `data/gen_country_corpus.py` wrote
//! the corpus. The country of an address is what a web event's national
//! phone number is read in, and which postal codes keep their leading
//! zeros.

use kindred_model::raw::RawAddress;

fn country_of(text: &str) -> Option<String> {
    let raw = RawAddress {
        country: Some(text.to_string()),
        city: Some("x".into()),
        ..RawAddress::default()
    };
    kindred_normalize::normalize_address(&raw).and_then(|a| a.country)
}

/// Every country by its alpha-2 and alpha-3 codes, its ISO short name and
/// its common name reads as its ISO code. An official long form (`Kingdom
/// of Spain`), which the `celes` data lacks, is kept as typed, never read
/// as another country.
#[test]
fn every_iso_country_is_read_by_its_codes_and_names() {
    let corpus = include_str!("data/country_corpus.tsv");
    let (mut wrong, mut official_kept, mut n) = (Vec::new(), 0, 0);
    for line in corpus.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (text, alpha2, field) = (f[0], f[1], f[2]);
        n += 1;
        let got = country_of(text);
        if got.as_deref() == Some(alpha2) {
            continue;
        }
        let kept_as_typed = got.as_deref().is_some_and(|g| g.chars().count() > 3);
        if field == "official_name" && kept_as_typed {
            official_kept += 1;
        } else {
            wrong.push(format!("{field} {text:?} -> {got:?}, ISO {alpha2}"));
        }
    }
    assert!(n > 900, "{n}");
    assert!(
        wrong.is_empty(),
        "{} of {n}:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    eprintln!("{official_kept} official long forms kept as typed");
}

/// What a till or a web shop writes besides the ISO forms.
#[test]
fn common_spellings_of_retail_countries() {
    for (text, want) in [
        ("Russia", "RU"),
        ("South Korea", "KR"),
        ("Vietnam", "VN"),
        ("U.S.A.", "US"),
        ("England", "GB"),
        ("Deutschland", "DE"),
        ("中国", "CN"),
        ("香港", "HK"),
        ("Côte d'Ivoire", "CI"),
        ("the Netherlands", "NL"),
        ("Korea, Republic of", "KR"),
        ("Congo, The Democratic Republic of the", "CD"),
        ("Taiwan, Province of China", "TW"),
    ] {
        assert_eq!(country_of(text).as_deref(), Some(want), "{text}");
    }
    // A number is no country (not ISO's numeric code 643).
    assert_eq!(country_of("643").as_deref(), Some("643"));
}
