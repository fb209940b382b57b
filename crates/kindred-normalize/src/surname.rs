//! Chinese family names: which are two characters long, and which are
//! read otherwise as a family name than their character's first reading.
//! One table for the whole project: `names` splits a full name with it,
//! and the resolver folds names to pinyin with it, so a family name typed
//! in its own field and the same name read from a full name agree.
//! Japanese family names are here too (most are two characters long).
//!
//! Checked against the surname data of the `pinyin` npm package (the
//! Hundred Family Surnames, single and compound):
//! `crates/kindred-resolver/tests/data/surnames.tsv`.

use std::collections::HashMap;
use std::sync::LazyLock;

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

/// The Hundred Family Surnames' one-character family names (simplified),
/// as the `pinyin` npm package's surname data lists them
/// (`crates/kindred-resolver/tests/data/surnames.tsv`): a name whose first
/// character is none of them is not a Chinese name.
pub const CHINESE_SURNAMES: &[&str] = &[
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章",
    "云苏潘葛奚范彭郎鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常",
    "乐于时傅皮卞齐康伍余元卜顾孟平黄和穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞",
    "熊纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危江童颜郭梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍",
    "虞万支柯昝管卢莫经房裘缪干解应宗丁宣贲邓郁单杭洪包诸左石崔吉钮龚程嵇邢滑裴陆荣翁",
    "荀羊於惠甄曲家封芮羿储靳汲邴糜松井段富巫乌焦巴弓牧隗山谷车侯宓蓬全郗班仰秋仲伊宫",
    "宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄印宿白怀蒲邰从鄂索咸籍赖卓蔺屠蒙",
    "池乔阴鬱胥能苍双闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍郤璩桑桂濮牛寿通边扈燕冀郏浦尚农",
    "温别庄晏柴瞿阎充慕连茹习宦艾鱼容向古易慎戈廖庾终暨居衡步都耿满弘匡国文寇广禄阙东",
    "欧殳沃利蔚越夔隆师巩厍聂晁勾敖融冷訾辛阚那简饶空曾母沙乜养鞠须丰巢关蒯相查后荆红",
    "游竺权逯盖益桓公牟哈言福朴",
];

/// Family names of Chinese people that [`CHINESE_SURNAMES`] (the classical
/// list, in simplified characters) lacks; [`is_chinese_surname`] knows
/// them too, so a Chinese name is not read as a Japanese one by sound
/// (`肖林峰` is not `小林`, Kobayashi) and a whole name typed in a given-name
/// field is found (`陳美玲`):
/// - modern family names at 0.02% of people or more in Faker's zh_CN list
///   (faker 40.63.0, weighted by frequency: `覃`, `岳`, `涂`, `麦`...), and
///   the everyday written forms of three classical ones, `肖` (萧), `付` (傅)
///   and `闫` (阎);
/// - Taiwan's family names of Faker's zh_TW list that no other line holds
///   (`丘`, `粘`, `鄞`...);
/// - ([`TRADITIONAL_SURNAMES`]) the traditional forms of all of them.
pub const MODERN_CHINESE_SURNAMES: &str =
    "覃岳兰涂阳芦麦佟苟隋商丛佘苑迟邝官南原栗楚鄢肖付闫丘凃留籃粘鄞龎";

/// The traditional forms of [`CHINESE_SURNAMES`] and
/// [`MODERN_CHINESE_SURNAMES`], as OpenCC's simplified-to-traditional table
/// writes them (`STCharacters.txt`, opencc-python-reimplemented 0.1.7): its
/// one form of a character, or of several the ones Faker's zh_TW list
/// holds as family names (`鍾` and `鐘` of 钟, not `鬍` of 胡).
pub const TRADITIONAL_SURNAMES: &[&str] = &[
    "趙錢孫吳鄭馮陳衛蔣韓楊許呂張嚴華謝鄒竇蘇魯韋馬鳳鮑費賀湯羅畢鄔樂時齊顧黃蕭貝計談",
    "龐紀項藍閔強賈婁顏鍾鐘駱萬盧經繆應賁鄧單諸鈕龔陸榮儲烏車宮欒鈄厲劉龍葉薊懷從賴藺",
    "喬陰蒼雙聞譚貢勞酈壽邊郟農溫莊閻連習魚終滿國祿闕東歐師鞏厙聶闞簡饒養關荊紅權蓋蘭",
    "塗陽蘆麥叢遲鄺閆",
];

/// Korean family names of two syllables: the Korean readings of the Chinese
/// compound family names of [`COMPOUND_SURNAMES`] in use in Korea (南宫
/// 남궁, 皇甫 황보, 诸葛 제갈, 鲜于 선우, 独孤 독고, 司空 사공, 西门 서문,
/// 东方 동방). Every other Korean family name is one syllable.
pub const KOREAN_COMPOUND_SURNAMES: &[&str] = &[
    "남궁", "황보", "제갈", "선우", "독고", "사공", "서문", "동방",
];

/// Of [`KOREAN_COMPOUND_SURNAMES`], those whose first syllable is no common
/// family name of its own: a name of three syllables starting with one is
/// the compound and a one-syllable given name (`남궁민`); one starting with
/// another (`황보라`, `서문희`) is read as a one-syllable family name and a
/// given name of two, far the commoner (황 and 서 are hundreds of thousands
/// of people, 황보 and 서문 a few thousand).
pub const KOREAN_RARE_FIRST_COMPOUNDS: &[&str] = &["남궁", "제갈", "독고", "사공"];

/// Whether a name typed in a family-name field is one: a Chinese family
/// name of the lists (one character of [`CHINESE_SURNAMES`] or a compound
/// one), a Japanese one of the list, or a Korean one (a hangul syllable, or
/// two of [`KOREAN_COMPOUND_SURNAMES`]). `None` for anything else than
/// hanzi or hangul.
pub fn is_cjk_family_name(name: &str) -> Option<bool> {
    let chars: Vec<char> = name.chars().collect();
    let hangul = |c: &char| matches!(c, '\u{AC00}'..='\u{D7A3}');
    if !chars.is_empty() && chars.iter().all(hangul) {
        return Some(chars.len() == 1 || KOREAN_COMPOUND_SURNAMES.contains(&name));
    }
    let kanji = chars.iter().all(|c| {
        matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
            || *c == ITERATION_MARK
    });
    if chars.is_empty() || !kanji {
        return None;
    }
    Some(match chars.as_slice() {
        // One character in a given-name field is a Chinese family name
        // unless it is a Japanese given name too (`南` Minami, `陸` Riku,
        // `陽` Haru; `陳` and `明` are both).
        [c] => is_chinese_surname(*c) && !is_japanese_given_name(name),
        _ => COMPOUND_SURNAMES.contains(&name) || japanese_surname(&chars, false).is_some(),
    })
}

/// How many characters of a full name written in hanzi or kanji (`chars`;
/// kana may follow) are its family name:
/// - two for a Chinese compound surname followed by a given name;
/// - two or three for a Japanese family name of the list
///   ([`JAPANESE_SURNAMES_CSV`]: `山田太郎` is 山田 太郎, `長谷川健` 長谷川 健,
///   `佐々木さくら` 佐々木 さくら), wherever the name cannot be read as
///   Chinese (see [`family_name_len_beside`]);
/// - else one.
///
/// A name of two characters that spell a compound surname (or three that
/// spell a Japanese one) is the family name alone when `alone_is_family`,
/// else one character of family name and the rest given name (`段干` may be
/// Duan Gan).
pub fn family_name_len(chars: &[char], alone_is_family: bool) -> usize {
    family_name_len_beside(chars, alone_is_family, chars.iter().any(|c| is_kana(*c)))
}

/// [`family_name_len`] of a name's hanzi (`chars`), read where its kana
/// are elsewhere: `with_kana` says whether the name holds any
/// (`田中さくら`'s hanzi are `田中`).
pub fn family_name_len_beside(chars: &[char], alone_is_family: bool, with_kana: bool) -> usize {
    let compound = chars.len() >= 2 && {
        let head: String = chars[..2].iter().collect();
        COMPOUND_SURNAMES.contains(&head.as_str())
    };
    if compound && (chars.len() > 2 || alone_is_family) {
        2
    } else {
        japanese_family_name_len(chars, alone_is_family, with_kana).unwrap_or(1)
    }
}

/// How many characters of `chars` (hanzi; `with_kana` as for
/// [`family_name_len_beside`]) typed alone in a given-name field are a
/// family name: none for one or two characters (`泽斌`), nor for a
/// Japanese given name of the list ([`is_japanese_given_name`]: `久美子`,
/// `龍之介`, `麻里子`), nor for more whose first is no Chinese family name
/// and which start with no family name of the lists; else the name is a
/// whole name in the wrong field (`李泽斌`, `陳美玲`, `肖雨涵`, `佐藤陽翔`).
pub fn family_name_len_in_given_field(chars: &[char], with_kana: bool) -> usize {
    if chars.len() <= 2 {
        return 0;
    }
    let name: String = chars.iter().collect();
    if is_japanese_given_name(&name) {
        return 0;
    }
    match family_name_len_beside(chars, false, with_kana) {
        1 if !is_chinese_surname(chars[0]) => 0,
        n => n,
    }
}

/// Whether `c` is a one-character Chinese family name: of the Hundred
/// Family Surnames ([`CHINESE_SURNAMES`]), a modern one
/// ([`MODERN_CHINESE_SURNAMES`]) or a traditional form of either
/// ([`TRADITIONAL_SURNAMES`]).
pub fn is_chinese_surname(c: char) -> bool {
    static SET: LazyLock<std::collections::HashSet<char>> = LazyLock::new(|| {
        CHINESE_SURNAMES
            .iter()
            .chain(TRADITIONAL_SURNAMES)
            .flat_map(|l| l.chars())
            .chain(MODERN_CHINESE_SURNAMES.chars())
            .collect()
    });
    SET.contains(&c)
}

/// The Japanese family name `chars` start with, as a length, if the list
/// holds one of two or three characters:
/// - as written: of the Chinese names the generator writes from common
///   characters, none of 3,278 of two characters and 1 of 15,685 of three
///   or more starts with a name of the list (`田中楓` and `佐藤` are
///   Japanese; a Chinese `高山`, Gao Shan, would be read as Takayama);
/// - in a variant form ([`japanese_surname`]) only where no Chinese name is
///   possible: kana, more than three characters, or a first character that
///   is no Chinese family name ([`CHINESE_SURNAMES`]); `石静怡`, Shi Jingyi,
///   sounds like `石井`.
fn japanese_family_name_len(
    chars: &[char],
    alone_is_family: bool,
    with_kana: bool,
) -> Option<usize> {
    let kana = with_kana || chars.iter().any(|c| is_kana(*c));
    let chinese_first = !kana && chars.first().is_some_and(|c| is_chinese_surname(*c));
    let variants = !chinese_first || chars.len() > 3;
    let kanji = chars.iter().take_while(|c| !is_kana(**c)).count();
    [3, 2].into_iter().find(|&n| {
        n <= kanji
            && (chars.len() > n || alone_is_family)
            && japanese_surname(&chars[..n], variants).is_some()
    })
}

/// Hiragana and katakana (a full-width prolonged sound mark included).
pub fn is_kana(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}' | '\u{31f0}'..='\u{31ff}')
}

/// The iteration mark, which repeats the character before it (`佐々木` is
/// `佐佐木`).
pub const ITERATION_MARK: char = '\u{3005}';

/// Japanese family names of two or three characters, kanji (iteration
/// marks written out) to their reading in passport Hepburn (`佐藤` sato,
/// `大野` ono, `渡邊` watanabe).
static JAPANESE_SURNAMES: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    JAPANESE_SURNAMES_CSV
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(',');
            let kanji = fields.next()?;
            let reading = fields.nth(2)?;
            let chars = expand_iteration_marks(kanji.chars());
            (chars.len() >= 2).then(|| (chars.into_iter().collect(), passport_hepburn(reading)))
        })
        .collect()
});

/// The `japanese-personal-name-dataset` package's family names (0.4.0,
/// MIT; `data/README.md`): `kanji,people,hiragana,romaji`, 1,999 names by
/// the number of people bearing them, the romaji as typed (`satou`).
const JAPANESE_SURNAMES_CSV: &str = include_str!("../data/japanese-surnames.csv");

/// The same package's given names (`data/README.md`):
/// `hiragana,romaji,kanji...`, each reading with the spellings registered
/// for it (70,296 distinct spellings of boys' and girls' names).
const JAPANESE_GIVEN_NAMES_CSV: [&str; 2] = [
    include_str!("../data/japanese-given-names-men.csv"),
    include_str!("../data/japanese-given-names-women.csv"),
];

/// Whether `name` (kanji) is a Japanese given name of the list: `陸`,
/// `南`, `龍之介`, `麻里子` are, though they start with, or are, a Chinese
/// family name. Read at first use.
pub fn is_japanese_given_name(name: &str) -> bool {
    static SET: LazyLock<std::collections::HashSet<&'static str>> = LazyLock::new(|| {
        JAPANESE_GIVEN_NAMES_CSV
            .iter()
            .flat_map(|csv| csv.lines())
            .flat_map(|line| line.split(',').skip(2))
            .map(str::trim)
            .filter(|kanji| !kanji.is_empty())
            .collect()
    });
    SET.contains(name)
}

/// The family name `chars` spell, if the list holds it: its reading, and
/// whether the list holds it as written. With `variants`, a
/// name the list holds with one character in a variant form of the same
/// sound (read as Chinese: `髙橋` for `高橋`, `濵田` for `濱田`), typed
/// from a customer's registered name, is that name, unless two names of
/// the list with different readings are alike so. (Every other character
/// must be the list's own: a Chinese name's `里静` sounds like `笠井` too.)
fn japanese_surname(chars: &[char], variants: bool) -> Option<(&'static str, bool)> {
    // Most names asked about are Chinese: no listed name starts with their
    // first character, and nothing is allocated for them.
    static FIRST: LazyLock<std::collections::HashSet<char>> = LazyLock::new(|| {
        JAPANESE_SURNAMES
            .keys()
            .filter_map(|k| k.chars().next())
            .collect()
    });
    if !variants && !chars.first().is_some_and(|c| FIRST.contains(c)) {
        return None;
    }
    let chars = expand_iteration_marks(chars.iter().copied());
    let key: String = chars.iter().collect();
    if let Some(reading) = JAPANESE_SURNAMES.get(&key) {
        return Some((reading, true));
    }
    if !variants {
        return None;
    }
    let sound = sound_of(&chars)?;
    let mut found: Option<&'static str> = None;
    for (kanji, reading) in JAPANESE_SURNAMES_BY_SOUND.get(&sound)? {
        let differing = kanji.chars().zip(&chars).filter(|(a, b)| a != *b).count();
        if differing == 1 {
            if found.is_some_and(|seen| seen != reading.as_str()) {
                return None;
            }
            found = Some(reading);
        }
    }
    found.map(|reading| (reading, false))
}

/// Japanese family names of [`JAPANESE_SURNAMES`] (kanji and reading) by
/// the sound of their characters read as Chinese ([`sound_of`]).
static JAPANESE_SURNAMES_BY_SOUND: LazyLock<HashMap<String, Vec<(&'static str, &'static String)>>> =
    LazyLock::new(|| {
        let mut by_sound: HashMap<String, Vec<(&'static str, &'static String)>> = HashMap::new();
        for (kanji, reading) in JAPANESE_SURNAMES.iter() {
            let chars: Vec<char> = kanji.chars().collect();
            if let Some(sound) = sound_of(&chars) {
                by_sound
                    .entry(sound)
                    .or_default()
                    .push((kanji.as_str(), reading));
            }
        }
        by_sound
    });

/// The toneless pinyin of `chars`, syllables separated by `-`, if every
/// one has a reading.
fn sound_of(chars: &[char]) -> Option<String> {
    use pinyin::ToPinyin;
    let syllables: Option<Vec<&str>> = chars.iter().map(|c| Some(c.to_pinyin()?.plain())).collect();
    Some(syllables?.join("-"))
}

/// `chars` with each iteration mark replaced by the character before it.
pub fn expand_iteration_marks(chars: impl Iterator<Item = char>) -> Vec<char> {
    let mut out: Vec<char> = Vec::new();
    for c in chars {
        match (c, out.last()) {
            (ITERATION_MARK, Some(&before)) => out.push(before),
            _ => out.push(c),
        }
    }
    out
}

/// A reading as typed (`satou`, `oono`, `yuuki`) as passports and cards
/// write it, long vowels short (`sato`, `ono`, `yuki`): `ou`, `oo` and `uu`
/// before a consonant or at the end. Before a vowel the second one starts
/// the next sound (`inoue`, 井上, is Inoue).
fn passport_hepburn(romaji: &str) -> String {
    let vowel = |c: Option<&u8>| c.is_some_and(|c| b"aeiou".contains(c));
    let bytes = romaji.as_bytes();
    let mut out = String::with_capacity(romaji.len());
    let mut i = 0;
    while i < bytes.len() {
        out.push(char::from(bytes[i]));
        let long = matches!(
            (bytes[i], bytes.get(i + 1)),
            (b'o', Some(b'u' | b'o')) | (b'u', Some(b'u'))
        );
        i += if long && !vowel(bytes.get(i + 2)) {
            2
        } else {
            1
        };
    }
    out
}

/// The reading of a family name written in `chars` as listed in
/// [`SURNAME_READINGS`], if it is read otherwise than character by
/// character, or of a Japanese family name of two or three characters (in
/// passport Hepburn: `斎藤`, `斉藤` and `齋藤` are all `saito`, as one
/// person's name typed by an input method may be).
pub fn surname_reading(chars: &str) -> Option<&'static str> {
    SURNAME_READINGS
        .iter()
        .find(|(c, _)| *c == chars)
        .map(|(_, r)| *r)
        .or_else(|| {
            let listed: Vec<char> = chars.chars().collect();
            (listed.len() >= 2 && !COMPOUND_SURNAMES.contains(&chars))
                .then(|| japanese_surname(&listed, true))
                .flatten()
                .map(|(reading, _)| reading)
        })
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
        // Japanese family names of the list.
        assert_eq!(len("山田太郎", false), 2);
        assert_eq!(len("田中楓", false), 2);
        assert_eq!(len("長谷川健", false), 3);
        assert_eq!(len("佐々木蓮", false), 3);
        assert_eq!(len("佐藤", true), 2);
        assert_eq!(len("井上", true), 2);
        assert_eq!(len("佐藤", false), 1);
        assert_eq!(len("岡田さくら", false), 2);
        // A variant form of a listed name counts only where no Chinese name
        // is possible (`石静怡` sounds like `石井`; `髙橋` is `高橋`).
        assert_eq!(len("石静怡", false), 1);
        assert_eq!(len("髙橋美咲", false), 2);
        assert_eq!(len("里静雨", false), 1);
        // A given-name field: a Japanese given name of three characters is
        // one given name; a whole name typed there is read as one.
        let given = |s: &str| family_name_len_in_given_field(&s.chars().collect::<Vec<_>>(), false);
        assert_eq!(given("泽斌"), 0);
        assert_eq!(given("久美子"), 0);
        assert_eq!(given("李泽斌"), 1);
        assert_eq!(given("佐藤陽翔"), 2);
    }

    #[test]
    fn japanese_family_names_are_read_in_passport_hepburn() {
        assert_eq!(surname_reading("佐藤"), Some("sato"));
        assert_eq!(surname_reading("大野"), Some("ono"));
        assert_eq!(surname_reading("井上"), Some("inoue"));
        assert_eq!(surname_reading("近藤"), Some("kondo"));
        assert_eq!(surname_reading("齋藤"), Some("saito"));
        assert_eq!(surname_reading("斉藤"), Some("saito"));
        assert_eq!(surname_reading("佐々木"), Some("sasaki"));
        assert_eq!(surname_reading("髙橋"), Some("takahashi"));
        // Chinese compound surnames keep their own reading.
        assert_eq!(surname_reading("司马"), None);
        assert_eq!(surname_reading("曾"), Some("zeng"));
        assert!(JAPANESE_SURNAMES.len() > 1_900);
        assert!(JAPANESE_SURNAMES
            .values()
            .all(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_lowercase())));
    }
}
