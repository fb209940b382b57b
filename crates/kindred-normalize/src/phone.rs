//! Phone numbers to E.164 with libphonenumber's metadata (`phonenumber` crate).

use phonenumber::Mode;

use crate::text::{fold, Rejected};
use crate::NormalizeOptions;

/// Parses a phone number as typed anywhere (`+86 138 0013 8000`,
/// `0086-138-0013-8000`, `138 0013 8000`, full-width digits, `ext. 12`) and
/// returns it in E.164 (`+8613800138000`). National numbers are read in the
/// default region. Extensions are not part of the identity and are dropped.
/// Numbers libphonenumber does not consider valid are rejected, not guessed.
pub fn normalize_phone(raw: &str, opts: &NormalizeOptions) -> Result<String, Rejected> {
    let text = fold(raw);
    if !text.chars().any(|c| c.is_ascii_digit()) {
        return Err(if text.is_empty() {
            Rejected::Empty
        } else {
            Rejected::Invalid
        });
    }
    // Letters other than an extension marker mean this is not a phone number.
    let letters: String = text
        .chars()
        .filter(|c| c.is_alphabetic())
        .collect::<String>()
        .to_lowercase();
    if !letters.is_empty()
        && !["ext", "x", "extension", "ext.", "转", "分机"].contains(&letters.as_str())
    {
        return Err(Rejected::Invalid);
    }
    // A number in international form needs no region, and reading it in one
    // can only go wrong.
    let region = (!text.starts_with('+')).then_some(opts.default_region);
    let number = phonenumber::parse(region, &text).map_err(|_| Rejected::Invalid)?;
    if !phonenumber::is_valid(&number) {
        return Err(Rejected::Invalid);
    }
    let national = number.national().to_string();
    if is_placeholder(&national) {
        return Err(Rejected::Junk);
    }
    let e164 = number.format().mode(Mode::E164).to_string();
    // A foreign number dialled from the default region (`00 7 ...`) goes
    // through the region's dialling rules; accept it only if its E.164 form
    // reads back as the same valid number, so the output is a fixed point
    // (found by fuzzing: `00-786025 35044` read as a valid +7 number whose
    // E.164 form libphonenumber then rejects).
    if region.is_some() && number.country().id() != Some(opts.default_region) {
        let again = phonenumber::parse(None, &e164).map_err(|_| Rejected::Invalid)?;
        if !phonenumber::is_valid(&again) || again.format().mode(Mode::E164).to_string() != e164 {
            return Err(Rejected::Invalid);
        }
    }
    Ok(e164)
}

/// Numbers cashiers type when the customer gives none: a subscriber part of
/// one repeated digit (`138 8888 8888`, `139 0000 0000`) or a plain run (`123 4567 8901`).
fn is_placeholder(national: &str) -> bool {
    let digits: Vec<u8> = national.bytes().filter(u8::is_ascii_digit).collect();
    let tail = &digits[digits.len().saturating_sub(7)..];
    let repeated = tail.windows(2).all(|w| w[0] == w[1]);
    let ascending = digits.windows(2).all(|w| w[1] == w[0] + 1);
    let descending = digits.windows(2).all(|w| w[0] == w[1] + 1);
    let typed_run = "12345678901234567890".starts_with(national);
    repeated || ascending || descending || typed_run
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> NormalizeOptions {
        NormalizeOptions {
            default_region: phonenumber::country::Id::US,
            ..NormalizeOptions::default()
        }
    }

    #[test]
    fn table() {
        let cn = NormalizeOptions::default();
        let cases: &[(&str, &NormalizeOptions, Result<&str, Rejected>)] = &[
            ("+86 138 0013 8000", &cn, Ok("+8613800138000")),
            ("0086-138-0013-8000", &cn, Ok("+8613800138000")),
            ("138 0013 8000", &cn, Ok("+8613800138000")),
            ("13800138000", &cn, Ok("+8613800138000")),
            ("(+86) 138-0013-8000", &cn, Ok("+8613800138000")),
            ("+86 13800138000", &cn, Ok("+8613800138000")),
            ("８６１３８００１３８０００", &cn, Ok("+8613800138000")),
            ("＋８６ １３８ ００１３ ８０００", &cn, Ok("+8613800138000")),
            ("１３８００１３８０００", &cn, Ok("+8613800138000")),
            ("+86 10 6552 9988", &cn, Ok("+861065529988")),
            ("010-6552-9988", &cn, Ok("+861065529988")),
            ("021 5466 1234", &cn, Ok("+862154661234")),
            ("+86 10 6552 9988 ext. 123", &cn, Ok("+861065529988")),
            ("+86 10 6552 9988 x123", &cn, Ok("+861065529988")),
            ("+852 2123 4567", &cn, Ok("+85221234567")),
            ("+886 912 345 678", &cn, Ok("+886912345678")),
            ("+65 9123 4567", &cn, Ok("+6591234567")),
            ("+60 12-388 6789", &cn, Ok("+60123886789")),
            ("+62 812-3456-7890", &cn, Ok("+6281234567890")),
            ("+81 90-1234-5678", &cn, Ok("+819012345678")),
            ("+82 10-2345-6789", &cn, Ok("+821023456789")),
            ("+44 20 7946 0958", &cn, Ok("+442079460958")),
            ("+44 7911 123456", &cn, Ok("+447911123456")),
            // Ofcom's range reserved for drama: not a real number.
            ("+44 7700 900123", &cn, Err(Rejected::Invalid)),
            ("+1 (415) 555-2671", &cn, Ok("+14155552671")),
            ("(415) 555-2671", &us(), Ok("+14155552671")),
            ("+49 30 901820", &cn, Ok("+4930901820")),
            ("+33 1 42 68 53 00", &cn, Ok("+33142685300")),
            ("+61 2 9374 4000", &cn, Ok("+61293744000")),
            ("+8613800138000", &cn, Ok("+8613800138000")),
            ("", &cn, Err(Rejected::Empty)),
            ("   ", &cn, Err(Rejected::Empty)),
            ("n/a", &cn, Err(Rejected::Invalid)),
            ("call me", &cn, Err(Rejected::Invalid)),
            ("123", &cn, Err(Rejected::Invalid)),
            ("+86 123", &cn, Err(Rejected::Invalid)),
            ("1380013800099999", &cn, Err(Rejected::Invalid)),
            ("+999 1234 5678", &cn, Err(Rejected::Invalid)),
            ("12345678901", &cn, Err(Rejected::Invalid)),
            ("13888888888", &cn, Err(Rejected::Junk)),
            ("13900000000", &cn, Err(Rejected::Junk)),
            ("138-0000-0000", &cn, Err(Rejected::Junk)),
            ("1 2 3 4", &cn, Err(Rejected::Invalid)),
            ("+44 1234 567890", &cn, Err(Rejected::Junk)),
            ("+86 138 0013 800a", &cn, Err(Rejected::Invalid)),
            ("00-786025\u{1} 35044", &cn, Err(Rejected::Invalid)),
            ("00 44 20 7946 0958", &cn, Ok("+442079460958")),
        ];
        for (raw, opts, want) in cases {
            assert_eq!(
                normalize_phone(raw, opts).as_deref(),
                want.as_deref(),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn e164_output_is_a_fixed_point() {
        for raw in ["138 0013 8000", "+44 20 7946 0958", "+1 (415) 555-2671"] {
            let once = normalize_phone(raw, &NormalizeOptions::default()).expect("valid");
            assert_eq!(
                normalize_phone(&once, &NormalizeOptions::default()),
                Ok(once.clone())
            );
            assert_eq!(normalize_phone(&once, &us()), Ok(once));
        }
    }
}
