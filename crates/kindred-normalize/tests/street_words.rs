//! Street words held to USPS Publication 28 (appendices C1 and C2 and the
//! directionals, as usaddress-scourgify 0.7.1 ships them);
//! `data/gen_street_words.py` wrote the corpus and `src/street_words.rs`.

use kindred_normalize::street_word;

#[test]
fn street_words_take_the_publications_forms() {
    let corpus = include_str!("data/street_words.tsv");
    let (mut wrong, mut n) = (Vec::new(), 0);
    for line in corpus.lines().filter(|l| !l.starts_with('#')) {
        let Some((word, form)) = line.split_once('\t') else {
            panic!("bad line {line:?}");
        };
        n += 1;
        if street_word(word) != form {
            wrong.push(format!("{word}: {}, want {form}", street_word(word)));
        }
    }
    assert!(n > 600, "{n}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Other words are their own form.
    for word in ["main", "stanley", "key", "rue"] {
        assert_eq!(street_word(word), word);
    }
}
