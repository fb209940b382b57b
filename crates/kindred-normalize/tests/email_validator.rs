//! Email addresses read against the Python `email-validator` library
//! (2.3.0, its syntax and normalization checks without DNS);
//! `data/gen_email_corpus.py` wrote the corpus. An email is the identifier
//! that links a web shopper to their other records, so an address no mail
//! system would deliver to must not become one, and two spellings of one
//! mailbox must become one.

use std::collections::HashMap;

use kindred_normalize::{normalize_email, Rejected};

struct Case {
    address: String,
    /// email-validator's local part and ASCII domain, or its reason.
    reading: Result<(String, String), String>,
}

fn corpus() -> Vec<Case> {
    include_str!("data/email_corpus.jsonl")
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("corpus line is JSON");
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            let reading = if v["ok"].as_bool() == Some(true) {
                Ok((s("local"), s("domain")))
            } else {
                Err(s("why"))
            };
            Case {
                address: s("address"),
                reading,
            }
        })
        .collect()
}

/// What kindred reads differently on purpose, as typed input rather than
/// an address on the wire: spaces and line breaks around the address and
/// the full stops (or an ellipsis) typed after it dropped, and the
/// invisible format characters
/// that copying and pasting leaves (zero-width spaces and joiners,
/// direction marks, the byte-order mark; `kindred_normalize::fold` drops
/// them everywhere). email-validator refuses such text; kindred reads it
/// as the address that remains, so it must read it as email-validator
/// reads that address.
fn as_kindred_cleans_it(address: &str) -> String {
    let invisible = |c: char| {
        matches!(c,
            '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
    };
    let trimmed = address.trim();
    let trimmed = trimmed.trim_end_matches(['.', '\u{2026}']);
    trimmed.chars().filter(|c| !invisible(*c)).collect()
}

#[test]
fn emails_read_as_email_validator_reads_them() {
    let cases = corpus();
    let by_address: HashMap<&str, &Case> = cases.iter().map(|c| (c.address.as_str(), c)).collect();
    let (mut differ, mut cleaned) = (Vec::new(), 0);
    for case in &cases {
        let got = normalize_email(&case.address, false);
        let clean = as_kindred_cleans_it(&case.address);
        let reading = match (&case.reading, by_address.get(clean.as_str())) {
            (Err(_), Some(c)) if c.reading.is_ok() && clean != case.address => {
                cleaned += 1;
                &c.reading
            }
            _ => &case.reading,
        };
        match (reading, got) {
            (Ok((local, domain)), Ok(e)) => {
                let want = format!("{}@{domain}", local.to_lowercase());
                if e.value != want {
                    differ.push(format!("{:?}: {} not {want}", case.address, e.value));
                }
            }
            // kindred's own refusals of addresses that exist.
            (Ok(_), Err(Rejected::Junk | Rejected::Role)) => {}
            (Ok(_), Err(why)) => differ.push(format!("{:?}: refused ({why:?})", case.address)),
            (Err(_), Err(_)) => {}
            (Err(why), Ok(e)) => differ.push(format!(
                "{:?}: taken as {}; email-validator: {why}",
                case.address, e.value
            )),
        }
    }
    assert!(cases.len() > 1000, "{}", cases.len());
    assert!(cleaned > 50, "{cleaned} read as cleaned");
    eprintln!(
        "{cleaned} of {} read as the address left when cleaned",
        cases.len()
    );
    assert!(
        differ.is_empty(),
        "{} of {}:\n{}",
        differ.len(),
        cases.len(),
        differ.join("\n")
    );
}
