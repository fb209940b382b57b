//! Chinese family names: which are two characters long, and which are
//! read otherwise as a family name than their character's first reading.
//! One table for the whole project: `names` splits a full name with it,
//! and the resolver folds names to pinyin with it, so a family name typed
//! in its own field and the same name read from a full name agree.
//!
//! Checked against the surname data of the `pinyin` npm package (the
//! Hundred Family Surnames, single and compound):
//! `crates/kindred-resolver/tests/data/surnames.tsv`.

/// Chinese family names of two characters, in simplified and traditional
/// characters (Hong Kong and Taiwan customers write `歐陽`, `諸葛`).
/// Every other Chinese family name is one character. Of the Hundred Family
/// Surnames' compound names, the rare ones whose first character is a
/// family name of its own (`梁丘`, `段干`, `乐正`, `单于`, `左丘`...) are
/// left out: `梁丘明` is far more often Liang Qiuming than Liangqiu Ming,
/// and `乐正华` Le Zhenghua.
pub const COMPOUND_SURNAMES: &[&str] = &[
    // Simplified.
    "万俟", "上官", "东方", "亓官", "仉督", "令狐", "仲孙", "公冶", "公孙", "公羊", "南宫", "南门",
    "司寇", "司徒", "司空", "司马", "呼延", "壤驷", "夏侯", "太叔", "太史", "夹谷", "子车", "宇文",
    "宗政", "尉迟", "慕容", "拓跋", "榖梁", "欧阳", "淳于", "漆雕", "澹台", "濮阳", "独孤", "申屠",
    "百里", "皇甫", "端木", "第五", "西门", "诸葛", "赫连", "轩辕", "钟离", "长孙", "闻人", "闾丘",
    "颛孙", "鲜于", // Traditional, where they differ.
    "東方", "仲孫", "公孫", "南宮", "南門", "司馬", "壤駟", "夾谷", "子車", "尉遲", "歐陽", "澹臺",
    "濮陽", "獨孤", "穀梁", "諸葛", "赫連", "軒轅", "鍾離", "長孫", "聞人", "閭丘", "顓孫", "鮮于",
    "萬俟", "西門",
];

/// Family names read otherwise than their character's (or characters')
/// first reading, which is what a character-by-character romanization
/// gives (`曾` is `ceng` elsewhere, `zeng` as a name), toneless, `ü` as
/// `v`, syllables run together. Where a surname has two readings in use
/// (`乐` Yue and Le, `能` Nai and Neng, `盖` Ge and Gai), the first
/// reading stands, as the character is read anyway; `皇甫` is `huangfu`
/// (as in every dictionary, where the reference data has `huangpu`).
pub const SURNAME_READINGS: &[(&str, &str)] = &[
    ("曾", "zeng"),
    ("单", "shan"),
    ("單", "shan"),
    ("解", "xie"),
    ("查", "zha"),
    ("区", "ou"),
    ("區", "ou"),
    ("朴", "piao"),
    ("仇", "qiu"),
    ("翟", "zhai"),
    ("覃", "qin"),
    ("缪", "miao"),
    ("繆", "miao"),
    ("盖", "ge"),
    ("蓋", "ge"),
    ("卜", "bu"),
    ("薄", "bo"),
    ("都", "du"),
    ("阚", "kan"),
    ("闞", "kan"),
    ("乜", "nie"),
    ("尉迟", "yuchi"),
    ("尉遲", "yuchi"),
    ("万俟", "moqi"),
    ("萬俟", "moqi"),
    ("澹台", "tantai"),
    ("澹臺", "tantai"),
    ("子车", "ziju"),
    ("子車", "ziju"),
    ("仉督", "zhangdu"),
    ("皇甫", "huangfu"),
];

/// How many characters of a Chinese full name (`chars`, hanzi only) are
/// its family name: two for a compound surname followed by a given name,
/// else one. A name of two characters that spell a compound surname is
/// the family name alone when `alone_is_family`, else one character of
/// family name and one of given name (`段干` may be Duan Gan).
pub fn family_name_len(chars: &[char], alone_is_family: bool) -> usize {
    let compound = chars.len() >= 2 && {
        let head: String = chars[..2].iter().collect();
        COMPOUND_SURNAMES.contains(&head.as_str())
    };
    if compound && (chars.len() > 2 || alone_is_family) {
        2
    } else {
        1
    }
}

/// The reading of a family name written in `chars` as listed in
/// [`SURNAME_READINGS`], if it is read otherwise than character by
/// character.
pub fn surname_reading(chars: &str) -> Option<&'static str> {
    SURNAME_READINGS
        .iter()
        .find(|(c, _)| *c == chars)
        .map(|(_, r)| *r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compound_surnames_are_two_characters_and_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for s in COMPOUND_SURNAMES {
            assert_eq!(s.chars().count(), 2, "{s}");
            assert!(seen.insert(s), "{s} listed twice");
        }
        for (chars, reading) in SURNAME_READINGS {
            assert!(
                chars.chars().count() == 1 || COMPOUND_SURNAMES.contains(chars),
                "{chars} is read but not a surname of the table"
            );
            assert!(reading.bytes().all(|b| b.is_ascii_lowercase()), "{reading}");
        }
    }

    #[test]
    fn family_name_lengths() {
        let len = |s: &str, alone| family_name_len(&s.chars().collect::<Vec<_>>(), alone);
        assert_eq!(len("李伟", false), 1);
        assert_eq!(len("欧阳娜娜", false), 2);
        assert_eq!(len("漆雕开", false), 2);
        // Not listed: its first character is a family name of its own.
        assert_eq!(len("梁丘明", false), 1);
        assert_eq!(len("歐陽娜娜", false), 2);
        assert_eq!(len("欧阳", false), 1);
        assert_eq!(len("欧阳", true), 2);
        assert_eq!(len("李", true), 1);
    }
}
