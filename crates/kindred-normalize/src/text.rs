//! Text helpers shared by the field normalizers.

use std::borrow::Cow;

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// NFKC (full-width forms to ASCII, compatibility characters folded),
/// control characters removed, whitespace runs folded to one space, trimmed.
pub fn fold(raw: &str) -> String {
    // Dropped before NFKC too: a zero-width space between a letter and a
    // combining accent would otherwise keep them apart until a second fold.
    let visible: Cow<str> = if raw.chars().any(is_invisible) {
        Cow::Owned(raw.chars().filter(|c| !is_invisible(*c)).collect())
    } else {
        Cow::Borrowed(raw)
    };
    // Most values (ASCII, and most names in other scripts) are in NFKC
    // already, which the quick check tells without composing them.
    let nfkc: Cow<str> = if is_nfkc_quick(visible.chars()) == IsNormalized::Yes {
        visible
    } else {
        Cow::Owned(visible.nfkc().filter(|c| !is_invisible(*c)).collect())
    };
    let mut out = String::with_capacity(nfkc.len());
    for word in nfkc.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Characters that show as nothing and that copy and paste carries along
/// unseen: zero-width spaces and joiners, the word joiner, direction marks
/// and embeddings, the soft hyphen, and a byte-order mark inside the text.
/// [`fold`] drops them, so `li.wei\u{200B}@qq.com` is `li.wei@qq.com`.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}')
}

/// [`fold`], lower-cased, and folded again: lower-casing can produce text
/// that is not in normal form (`İ` lowers to `i` + combining dot), and the
/// output of a normalizer must be a fixed point.
pub fn fold_lower(raw: &str) -> String {
    fold(&fold(raw).to_lowercase())
}

/// [`fold`], upper-cased, and folded again (see [`fold_lower`]).
pub fn fold_upper(raw: &str) -> String {
    fold(&fold(raw).to_uppercase())
}

/// Appends a letter of a name as names compare it: lower case, and a Latin
/// letter without its accents (`é` is `e`, `Ø` is `o`, `ß` is `ss`, `Đ` is
/// `d`). One name typed on keyboards with and without the accents, or
/// stored by a system that strips them (`José`, `Jose`; `Lê Văn`, `Le
/// Van`), is one name; so with Greek (`Γιώργος`, `ΓΙΩΡΓΟΣ`). Other scripts
/// are only lower-cased (a Hangul syllable is not taken apart; Cyrillic `й`
/// is a letter of its own), but for Russian `ё`, typed `е` as often,
/// Arabic's letters typed in more than one way and its vowel marks (and
/// Hebrew's), and katakana, compared as the hiragana of the same sound.
pub fn push_name_letter(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    let special = match c {
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'ø' | 'Ø' => "o",
        'ł' | 'Ł' => "l",
        'ß' | 'ẞ' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ı' => "i",
        'þ' | 'Þ' => "th",
        // Greek's word-final sigma is the sigma a capital `Σ` lowers to
        // (`ΠΑΠΑΔΟΠΟΥΛΟΣ`, `Παπαδόπουλος`).
        'ς' => "σ",
        // Russian writes `ё` as `е` more often than not (`Фёдор`, `Федор`).
        'ё' | 'Ё' => "е",
        // Arabic: an alef with its hamza or madda is typed bare as often
        // (`أحمد`, `احمد`); a final `ى` as `ي` (`مصطفى`, `مصطفي`); a
        // final `ة` as `ه` (`فاطمة`, `فاطمه`); Persian keyboards' `ی` and
        // `ک` are Arabic's `ي` and `ك`.
        'أ' | 'إ' | 'آ' | 'ٱ' => "ا",
        'ى' | 'ی' => "ي",
        'ک' => "ك",
        'ة' => "ه",
        _ => "",
    };
    // Marks a name is written with or without, one name either way: Arabic
    // short vowels and shadda (`مُحَمَّد` is `محمد`), its superscript alef
    // and the tatweel that stretches a word; Hebrew's points (niqqud).
    if matches!(c, '\u{064b}'..='\u{065f}' | '\u{0670}' | '\u{0640}' | '\u{0591}'..='\u{05c7}') {
        return;
    }
    if !special.is_empty() {
        out.push_str(special);
    } else if let '\u{30a1}'..='\u{30f6}' = c {
        // Katakana as hiragana: a Japanese name's reading is typed in
        // either (`ヤマダ タロウ`, `やまだ たろう`), the same sounds.
        out.extend(char::from_u32(c as u32 - 0x60));
    } else if matches!(c,
        '\u{00c0}'..='\u{024f}' | '\u{1e00}'..='\u{1eff}'
        // Greek, whose accents capitals drop (`Ό` is typed `Ο`).
        | '\u{0370}'..='\u{03ff}' | '\u{1f00}'..='\u{1fff}')
    {
        unicode_normalization::char::decompose_canonical(c, |d| {
            if !unicode_normalization::char::is_combining_mark(d) {
                out.extend(d.to_lowercase());
            }
        });
    } else {
        out.extend(c.to_lowercase());
    }
}

/// Marks typed inside a name that join its parts rather than separate
/// them (`O'Brien`, `O’Brien` and `OBrien` are one name; Hebrew's geresh
/// in `ג׳ני` as the apostrophe in `ג'ני`).
pub fn is_name_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '`' | '´' | '\u{5f3}')
}

/// A mark that combines with the letter before it (Unicode categories
/// Mn, Mc, Me): a Devanagari virama (`स्नेहा`), a Thai tone mark
/// (`แก้ว`). Part of its word, never a break between words.
pub fn is_combining_mark(c: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory as G};
    matches!(
        get_general_category(c),
        G::NonspacingMark | G::SpacingMark | G::EnclosingMark
    )
}

/// CJK ideographs, kana and hangul: names in these scripts keep their case
/// and have no spaces between family and given names.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF   // hiragana, katakana
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xAC00..=0xD7AF // hangul syllables
        | 0xF900..=0xFAFF // CJK compatibility ideographs
        | 0x20000..=0x2FA1F)
}

/// The reason a value was refused, as a low-cardinality label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// Nothing left after cleaning.
    Empty,
    /// Not a well-formed value of its kind.
    Invalid,
    /// A placeholder or test value (`12345678901`, `test@test.com`).
    Junk,
    /// On the configured blocklist.
    Blocklisted,
    /// Longer than any real value of its kind ([`crate::MAX_FIELD_BYTES`]):
    /// junk, or input crafted to make parsing and name matching slow.
    TooLong,
    /// A business's number, no one person's: toll-free, premium-rate,
    /// shared-cost or universal access numbers, and a switchboard number
    /// typed with an extension (everyone in the office shares it).
    Business,
    /// A role's mailbox (`info@`, `sales@`, `office@`): a team's or a
    /// company's, read by whoever holds the role, no one person's.
    Role,
    /// An order on an event that is no sale (a cart, a checkout begun, an
    /// order's update restating one already counted).
    NotAPurchase,
}

impl Rejected {
    pub fn as_str(self) -> &'static str {
        match self {
            Rejected::Empty => "empty",
            Rejected::Invalid => "invalid",
            Rejected::Junk => "junk",
            Rejected::Blocklisted => "blocklisted",
            Rejected::TooLong => "too_long",
            Rejected::Business => "business_number",
            Rejected::Role => "role_address",
            Rejected::NotAPurchase => "not_a_purchase",
        }
    }
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `c` is a letter of any script or a mark combining with one
/// (Unicode categories L and Mn, Mc): what a word of a name, a date or a
/// domain label is made of.
pub(crate) fn is_letter_or_mark(c: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory as G};
    matches!(
        get_general_category(c),
        G::UppercaseLetter
            | G::LowercaseLetter
            | G::TitlecaseLetter
            | G::ModifierLetter
            | G::OtherLetter
            | G::NonspacingMark
            | G::SpacingMark
    )
}

/// A number that went through a spreadsheet as a decimal (`13910248876.0`,
/// `6282488140.00`): its digits, when `text` (trimmed) is only ASCII digits
/// (15 at most) and a fraction of zeros; `text` otherwise. A number a
/// 64-bit float cannot hold exactly is left to be refused, as is one in
/// scientific notation (`1.39102E+10`): its last digits may be another
/// number's (`9876543210987653` is written `9876543210987652.0`), and a
/// guess would be someone else's card.
pub(crate) fn without_zero_fraction(text: &str) -> &str {
    /// Every integer of this many digits is exact in an IEEE 754 double.
    const EXACT_DIGITS: usize = 15;
    let t = text.trim();
    match t.split_once('.') {
        Some((digits, zeros))
            if !digits.is_empty()
                && digits.len() <= EXACT_DIGITS
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !zeros.is_empty()
                && zeros.bytes().all(|b| b == b'0') =>
        {
            digits
        }
        _ => text,
    }
}

/// `text` with the decimal digits of other scripts as ASCII digits (NFKC
/// maps full-width digits, not these): a number or a date typed on an
/// Arabic, Persian, Indian, Thai, Lao, Tibetan, Myanmar or Khmer keyboard
/// is the same number or date.
pub(crate) fn ascii_digits(text: &str) -> String {
    /// The zero of each script's run of ten decimal digits (Unicode Nd).
    const ZEROS: [u32; 16] = [
        0x0660, // Arabic-Indic
        0x06F0, // Extended Arabic-Indic (Persian, Urdu)
        0x0966, // Devanagari
        0x09E6, // Bengali
        0x0A66, // Gurmukhi
        0x0AE6, // Gujarati
        0x0B66, // Oriya
        0x0BE6, // Tamil
        0x0C66, // Telugu
        0x0CE6, // Kannada
        0x0D66, // Malayalam
        0x0E50, // Thai
        0x0ED0, // Lao
        0x0F20, // Tibetan
        0x1040, // Myanmar
        0x17E0, // Khmer
    ];
    text.chars()
        .map(|c| {
            let code = u32::from(c);
            ZEROS
                .iter()
                .find(|zero| (**zero..**zero + 10).contains(&code))
                .and_then(|zero| char::from_digit(code - zero, 10))
                .unwrap_or(c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// [`fold`] as first written: every value composed.
    fn fold_composing_every_value(raw: &str) -> String {
        let visible: String = raw.chars().filter(|c| !is_invisible(*c)).collect();
        let nfkc: String = visible.nfkc().filter(|c| !is_invisible(*c)).collect();
        nfkc.split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    proptest! {
        /// Skipping the composition of values the quick check calls NFKC
        /// changes no fold: ASCII, accents precomposed or combining,
        /// full-width forms, kana and hangul jamo, circled digits, invisible
        /// characters, whitespace of every kind.
        #[test]
        fn quick_checked_fold_equals_composing_every_value(
            raw in "[a-zA-Z0-9 .@+\t\n\\x{00A0}\\x{00AD}\\x{00E9}\\x{00F8}\\x{00DF}\\x{0300}-\\x{0308}\\x{200B}-\\x{200F}\\x{2060}\\x{FEFF}\\x{3000}\\x{FF01}-\\x{FF5E}\\x{FF61}-\\x{FF9F}\\x{3041}-\\x{3099}\\x{30A0}-\\x{30FF}\\x{4E00}-\\x{4E10}\\x{AC00}-\\x{AC04}\\x{1100}-\\x{1102}\\x{1161}-\\x{1163}\\x{2460}-\\x{2465}\\x{FB01}]{0,16}"
        ) {
            prop_assert_eq!(fold(&raw), fold_composing_every_value(&raw));
        }

        #[test]
        fn quick_checked_fold_equals_composing_any_text(raw in any::<String>()) {
            prop_assert_eq!(fold(&raw), fold_composing_every_value(&raw));
        }
    }
}
