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

/// Texts whose first word, a part of them or their letters without the
/// punctuation name another country than they do. Each is read as the
/// country it names, or not read at all (kept as typed), never as the
/// other: the country decides the region of a national phone number.
#[test]
fn a_part_of_a_country_field_is_not_read_as_a_country() {
    for (text, want) in [
        ("Samoa (American)", "AS"),
        ("Guinea (Equatorial)", "GQ"),
        ("Sudan (South)", "SS"),
        ("Ireland (Northern)", "GB"),
        ("Saint Martin (French part)", "MF"),
        ("Holy See (Vatican City State)", "VA"),
        ("Bolivia, Plurinational State of", "BO"),
        // Codes typed as codes.
        ("NA", "NA"),
        ("AND", "AD"),
        ("us", "US"),
        ("U.S.A.", "US"),
        ("XK", "XK"),
        // ISO's exceptionally reserved code for the United Kingdom.
        ("UK", "GB"),
        ("uk", "GB"),
        // The usual markets' codes in any case, as before.
        ("chn", "CN"),
        ("Deu", "DE"),
        ("twn", "TW"),
        ("aus", "AU"),
        // ISO's qualifiers in parentheses, and a name with its own code.
        ("Taiwan (Province of China)", "TW"),
        ("Bolivia (Plurinational State of)", "BO"),
        ("Netherlands (Kingdom of the)", "NL"),
        ("Germany (DE)", "DE"),
        ("China (CN)", "CN"),
        ("United Kingdom (UK)", "GB"),
        ("United States (USA)", "US"),
        ("Myanmar (Burma)", "MM"),
        // Greater China as Chinese and international systems write it.
        ("Hong Kong, China", "HK"),
        ("Hong Kong SAR", "HK"),
        ("Hong Kong (China)", "HK"),
        ("China, Hong Kong Special Administrative Region", "HK"),
        ("Macao, China", "MO"),
        ("Macau SAR", "MO"),
        ("Taiwan, China", "TW"),
        // The World Bank's index forms.
        ("Egypt, Arab Rep.", "EG"),
        ("Iran, Islamic Rep.", "IR"),
        ("Venezuela, RB", "VE"),
    ] {
        assert_eq!(country_of(text).as_deref(), Some(want), "{text}");
    }
    for text in [
        // Another country than the name in front of the parentheses.
        "Congo (Kinshasa)",
        "Congo (DRC)",
        "China (Republic of)",
        "Georgia (USA)",
        // Another country, or a US state, after the comma.
        "Congo, Dem. Rep.",
        "Congo, DRC",
        "China, Republic of",
        "Georgia, USA",
        "Lebanon, PA",
        "Jamaica, NY",
        "Mexico, NY",
        "Macedonia, Greece",
        "Mongolia, China",
        // A part that contradicts the name, and names in a script the
        // comparison cannot read beside an English word.
        "Saint Martin (Dutch part)",
        "St. Maarten (French part)",
        "香港, China",
        "台湾 China",
        "Germany (USA)",
        // State and other abbreviations, not ISO codes.
        "Ga.",
        "Pa.",
        "Va.",
        "Ca.",
        "Md.",
        "La.",
        "Ky.",
        "N.C.",
        "S.D.",
        "Ind.",
        "Ala.",
        "Col.",
        "S.A.",
        // Words, not alpha-3 codes.
        "and",
        "Com",
        ".com",
        "Per",
        "Est",
        "Pan",
    ] {
        let got = country_of(text);
        assert!(
            got.as_deref().is_some_and(|g| g.chars().count() > 2),
            "{text} -> {got:?}"
        );
    }
    for text in ["N/A", "n/a", "N.A.", "none", "Unknown", "-"] {
        assert_eq!(country_of(text), None, "{text}");
    }
}
