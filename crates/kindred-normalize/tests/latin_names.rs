//! Latin full names read against python-nameparser; `data/gen_name_corpus.py`
//! wrote the corpus: titles, nicknames, generational suffixes, degrees and
//! `Family, Given` order, as tills, web forms and CRM exports type them.
//! A name is compared by its words (case and dots aside, since kindred
//! writes an all-capitals name in title case and nameparser keeps it).

use kindred_normalize::names;

fn words(s: &str) -> String {
    s.replace('.', "").to_lowercase()
}

#[test]
fn names_read_as_nameparser_reads_them() {
    let corpus = include_str!("data/name_corpus.tsv");
    let (mut wrong, mut n) = (Vec::new(), 0);
    for line in corpus.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let [typed, full, given, family] = f.as_slice() else {
            panic!("bad line {line:?}");
        };
        n += 1;
        let (got, dropped) = names(Some(typed), None, None);
        // What kindred writes reads as itself.
        if let Some(full) = &got.full {
            let again = names(Some(full), None, None).0.full;
            if again.as_deref() != Some(full.as_str()) {
                wrong.push(format!("{typed:?}: {full:?} normalizes again to {again:?}"));
            }
        }
        let got_full = got.full.as_deref().map(words);
        let (got_given, got_family) = if given.is_empty() {
            (None, None)
        } else {
            (
                got.given.as_deref().map(words),
                got.family.as_deref().map(words),
            )
        };
        let want = (
            Some(words(full)),
            (!given.is_empty()).then(|| words(given)),
            (!family.is_empty()).then(|| words(family)),
        );
        if (got_full.clone(), got_given.clone(), got_family.clone()) != want {
            wrong.push(format!(
                "{typed:?}: {:?} / {:?} / {:?} (dropped {dropped:?}), want {want:?}",
                got.full, got.given, got.family
            ));
        }
    }
    assert!(n > 1000, "{n}");
    assert!(
        wrong.is_empty(),
        "{} of {n}:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// A typed name, the full name kindred reads, and its (given, family).
type Reading<'a> = (&'a str, Option<&'a str>, Option<(&'a str, &'a str)>);

/// What nameparser has no opinion on, or reads otherwise on purpose.
#[test]
fn kindreds_own_readings() {
    let cases: &[Reading] = &[
        // An ordinal generation is written as the roman one, and its
        // digits do not make the name junk.
        ("John Smith 2nd", Some("John Smith II"), None),
        ("JOHN SMITH III", Some("John Smith III"), None),
        // A Malaysian or Singaporean name with its father's: one name
        // however typed, the connector gone (helper-193).
        ("RAJESH S/O KUMAR", Some("Rajesh Kumar"), None),
        ("Rajesh s/o Kumar", Some("Rajesh Kumar"), None),
        ("SARAVANAN A/L MUNIANDY", Some("Saravanan Muniandy"), None),
        ("Devi a/p Suppiah", Some("Devi Suppiah"), None),
        // `Junior`, `Senior`, and roman numerals typed in mixed case are
        // family names (`Olive Senior`, `Naosuke Ii`).
        ("Mr. John Smith Junior", Some("John Smith Junior"), None),
        ("Olive Senior", Some("Olive Senior"), None),
        ("Naosuke Ii", Some("Naosuke Ii"), None),
        ("JOHN SMITH 2nd", Some("John Smith II"), None),
        // Given names and family names that are also titles or degrees.
        ("Maj Sjöwall", Some("Maj Sjöwall"), None),
        ("Hon Sui Sen", Some("Hon Sui Sen"), None),
        ("Chioma Ngozi Mba", Some("Chioma Ngozi Mba"), None),
        ("Hossain, Md", Some("Md Hossain"), Some(("Md", "Hossain"))),
        // A comma, a semicolon or a Nordic `og` / `och` between two
        // people's names: no one's name (it would bridge both).
        ("John Smith, Jane Smith", None, None),
        ("John Smith; Jane Doe", None, None),
        ("Lars og Mette Hansen", None, None),
        ("Erik och Anna Svensson", None, None),
        // Irish `Og` (`Óg` typed in ASCII) is a name's word, and `LI, LI`
        // is 李丽's name turned round.
        ("Sean Og Murphy", Some("Sean Og Murphy"), None),
        ("LI, LI", Some("Li Li"), Some(("Li", "Li"))),
        // After a full name and a comma, what names elsewhere are degrees,
        // titles and generations (second review, H70).
        ("John Smith, MBA", Some("John Smith"), None),
        ("Jane Doe, OBE", Some("Jane Doe"), None),
        ("John Smith Jr., MBA", Some("John Smith Jr"), None),
        ("John Smith, Junior", Some("John Smith Jr"), None),
        ("John Smith, Iii", Some("John Smith III"), None),
        ("John Smith, Hon.", Some("John Smith"), None),
        ("John Smith, Prof. Dr.", Some("John Smith"), None),
        (
            "Smith, John Iii",
            Some("John Smith III"),
            Some(("John", "Smith")),
        ),
        (
            "Smith, John MBA",
            Some("John Smith"),
            Some(("John", "Smith")),
        ),
        ("Wong, Hon", Some("Hon Wong"), Some(("Hon", "Wong"))),
        ("ii naosuke", Some("Ii Naosuke"), None),
        // A payment card's name (ISO/IEC 7813), as a till reads it.
        ("SMITH/JOHN", Some("John Smith"), Some(("John", "Smith"))),
        (
            "SMITH/JOHN A.MR",
            Some("John A Smith"),
            Some(("John A", "Smith")),
        ),
        (
            "DE LA CRUZ/MARIA MS",
            Some("Maria De La Cruz"),
            Some(("Maria", "De La Cruz")),
        ),
        // A slash typed otherwise joins two names; `N/A` is no name.
        ("Smith/Jones", None, None),
        ("N/A", None, None),
        // A comma form's parts are cased as names.
        (
            "García, maría",
            Some("María García"),
            Some(("María", "García")),
        ),
        // Unbalanced quotes or parentheses: nothing is taken for a nickname.
        ("John \"Jack Smith", Some("John \"Jack Smith"), None),
        // A degree is dropped only after a name of two words or more.
        ("Jane MD", Some("Jane MD"), None),
        // A leading `Md` (Mohammed, in Bangladesh) is a name.
        ("Md Rahman", Some("Md Rahman"), None),
        // A title alone after the comma: a family name and its title.
        ("Smith, Mr", None, None),
    ];
    for (typed, full, parts) in cases {
        let (n, _) = names(Some(typed), None, None);
        assert_eq!(n.full.as_deref(), *full, "{typed}");
        assert_eq!(
            n.given.as_deref().zip(n.family.as_deref()),
            *parts,
            "{typed}"
        );
    }
    let (n, _) = names(Some("Smith, Mr"), None, None);
    assert_eq!(
        (n.family.as_deref(), n.title_gender),
        (Some("Smith"), Some("male"))
    );
    let (n, _) = names(Some("SMITH/JANE.MRS"), None, None);
    assert_eq!(
        (n.full.as_deref(), n.title_gender),
        (Some("Jane Smith"), Some("female"))
    );
    let (n, _) = names(Some("Smith, Mrs Jane"), None, None);
    assert_eq!(
        (n.full.as_deref(), n.given.as_deref(), n.title_gender),
        (Some("Jane Smith"), Some("Jane"), Some("female"))
    );
    // The source's own fields win over what the full name's text says.
    let (n, _) = names(Some("Smith, John"), Some("Johnny"), None);
    assert_eq!(
        (n.given.as_deref(), n.family.as_deref()),
        (Some("Johnny"), Some("Smith"))
    );
}
