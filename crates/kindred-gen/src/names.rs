//! Personal names per country, their romanizations (for email local parts
//! and handles), how people write them, and how they get mistyped.

use rand::Rng;

use crate::country::Country;
use crate::dice::{pick, pick_zipf, weighted};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Gender {
    Female,
    Male,
    Other,
}

/// A person's name as they write it, and its ASCII romanization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    pub(crate) given: String,
    pub(crate) family: String,
    /// Written family name first (Chinese, Japanese, Singapore Chinese).
    pub(crate) family_first: bool,
    /// CJK script: no space between the parts.
    pub(crate) cjk: bool,
    /// Connective written between given and family (`binti`, `bin`).
    pub(crate) connective: Option<&'static str>,
    pub(crate) roman_given: String,
    pub(crate) roman_family: String,
}

impl Name {
    pub(crate) fn full(&self) -> String {
        if self.cjk {
            format!("{}{}", self.family, self.given)
        } else if self.family_first {
            format!("{} {}", self.family, self.given)
        } else if let Some(c) = self.connective {
            format!("{} {c} {}", self.given, self.family)
        } else {
            format!("{} {}", self.given, self.family)
        }
    }

    /// The romanized name in Latin order (for Japanese names typed in romaji).
    pub(crate) fn romaji(&self) -> String {
        format!("{} {}", title(&self.roman_given), title(&self.roman_family))
    }
}

fn title_words(s: &str) -> String {
    s.split(' ').map(title).collect::<Vec<_>>().join(" ")
}

fn title(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

// Chinese surnames by frequency, with pinyin.
const CN_FAMILY: &[(&str, &str)] = &[
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("高", "gao"),
    ("林", "lin"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("许", "xu"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
    ("彭", "peng"),
    ("曾", "zeng"),
    ("肖", "xiao"),
    ("田", "tian"),
    ("董", "dong"),
    ("袁", "yuan"),
    ("潘", "pan"),
    ("于", "yu"),
    ("蒋", "jiang"),
    ("蔡", "cai"),
    ("余", "yu"),
    ("杜", "du"),
    ("叶", "ye"),
    ("程", "cheng"),
    ("苏", "su"),
    ("魏", "wei"),
    ("吕", "lv"),
    ("丁", "ding"),
    ("任", "ren"),
    ("沈", "shen"),
];
const CN_COMPOUND_FAMILY: &[(&str, &str)] = &[
    ("欧阳", "ouyang"),
    ("司马", "sima"),
    ("诸葛", "zhuge"),
    ("上官", "shangguan"),
];
const CN_GIVEN_F: &[(&str, &str)] = &[
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("艳", "yan"),
    ("婷", "ting"),
    ("雪", "xue"),
    ("琳", "lin"),
    ("欣", "xin"),
    ("怡", "yi"),
    ("佳", "jia"),
    ("颖", "ying"),
    ("慧", "hui"),
    ("洁", "jie"),
    ("梅", "mei"),
    ("玲", "ling"),
    ("晶", "jing"),
    ("萍", "ping"),
    ("红", "hong"),
    ("霞", "xia"),
    ("悦", "yue"),
    ("彤", "tong"),
    ("雨", "yu"),
    ("涵", "han"),
    ("诗", "shi"),
    ("梦", "meng"),
    ("琪", "qi"),
    ("倩", "qian"),
    ("璐", "lu"),
    ("薇", "wei"),
    ("蕾", "lei"),
    ("瑶", "yao"),
    ("思", "si"),
    ("晓", "xiao"),
    ("秀", "xiu"),
    ("兰", "lan"),
    ("燕", "yan"),
    ("丹", "dan"),
    ("月", "yue"),
    ("婉", "wan"),
    ("欢", "huan"),
    ("妍", "yan"),
    ("琴", "qin"),
    ("云", "yun"),
    ("莉", "li"),
    ("娟", "juan"),
    ("玉", "yu"),
    ("凤", "feng"),
    ("桂", "gui"),
    ("英", "ying"),
    ("春", "chun"),
    ("露", "lu"),
    ("珊", "shan"),
    ("莹", "ying"),
    ("雯", "wen"),
    ("婕", "jie"),
    ("菲", "fei"),
    ("岚", "lan"),
    ("可", "ke"),
    ("馨", "xin"),
    ("嘉", "jia"),
    ("青", "qing"),
    ("若", "ruo"),
    ("楠", "nan"),
    ("钰", "yu"),
    ("蓉", "rong"),
    ("美", "mei"),
    ("娇", "jiao"),
    ("妮", "ni"),
];
const CN_GIVEN_M: &[(&str, &str)] = &[
    ("伟", "wei"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("军", "jun"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("斌", "bin"),
    ("超", "chao"),
    ("明", "ming"),
    ("刚", "gang"),
    ("平", "ping"),
    ("辉", "hui"),
    ("鹏", "peng"),
    ("华", "hua"),
    ("飞", "fei"),
    ("鑫", "xin"),
    ("波", "bo"),
    ("宇", "yu"),
    ("浩", "hao"),
    ("凯", "kai"),
    ("健", "jian"),
    ("俊", "jun"),
    ("帆", "fan"),
    ("帅", "shuai"),
    ("旭", "xu"),
    ("宁", "ning"),
    ("龙", "long"),
    ("博", "bo"),
    ("文", "wen"),
    ("志", "zhi"),
    ("建", "jian"),
    ("国", "guo"),
    ("子", "zi"),
    ("晨", "chen"),
    ("轩", "xuan"),
    ("峰", "feng"),
    ("亮", "liang"),
    ("海", "hai"),
    ("东", "dong"),
    ("兵", "bing"),
    ("阳", "yang"),
    ("成", "cheng"),
    ("毅", "yi"),
    ("彬", "bin"),
    ("昊", "hao"),
    ("睿", "rui"),
    ("泽", "ze"),
    ("铭", "ming"),
    ("宏", "hong"),
    ("庆", "qing"),
    ("祥", "xiang"),
    ("光", "guang"),
    ("天", "tian"),
    ("振", "zhen"),
    ("胜", "sheng"),
    ("荣", "rong"),
    ("坤", "kun"),
    ("家", "jia"),
    ("瑞", "rui"),
    ("豪", "hao"),
    ("然", "ran"),
    ("一", "yi"),
    ("鸿", "hong"),
    ("达", "da"),
    ("立", "li"),
    ("德", "de"),
    ("安", "an"),
    ("松", "song"),
];

/// Characters a pinyin input method offers for the same syllable: the
/// common way hanzi names get mistyped.
const HOMOPHONES: &[(char, &[char])] = &[
    ('伟', &['玮', '炜', '韦', '纬']),
    ('丽', &['莉', '俪', '利']),
    ('静', &['婧', '靜', '晶']),
    ('敏', &['民', '珉']),
    ('芳', &['方', '芬']),
    ('娜', &['那', '纳']),
    ('杰', &['洁', '捷', '傑']),
    ('明', &['铭', '鸣']),
    ('婷', &['亭', '庭']),
    ('磊', &['垒', '蕾']),
    ('涛', &['滔', '韬']),
    ('刚', &['钢', '纲']),
    ('军', &['君', '俊']),
    ('强', &['蔷', '墙']),
    ('张', &['章']),
    ('李', &['理', '里']),
    ('刘', &['柳', '留']),
    ('杨', &['扬', '阳']),
    ('黄', &['皇', '煌']),
    ('陈', &['陳', '程']),
    ('林', &['琳', '霖']),
    ('洋', &['阳', '扬']),
    ('晶', &['菁', '静']),
    ('琳', &['林', '玲']),
    ('欣', &['鑫', '新']),
    ('怡', &['宜', '仪']),
    ('佳', &['嘉', '家']),
    ('颖', &['莹', '影']),
    ('慧', &['惠', '蕙']),
    ('梅', &['玫', '媚']),
    ('玲', &['铃', '琳']),
    ('勇', &['永', '涌']),
    ('斌', &['彬', '滨']),
    ('超', &['朝']),
    ('辉', &['晖', '徽']),
    ('鹏', &['朋', '彭']),
    ('华', &['桦', '骅']),
    ('飞', &['菲', '非']),
    ('宇', &['雨', '羽']),
    ('浩', &['皓', '昊']),
    ('凯', &['恺', '铠']),
    ('健', &['建', '剑']),
    ('俊', &['骏', '峻']),
    ('帆', &['凡', '繁']),
    ('旭', &['煦']),
    ('宁', &['凝']),
    ('龙', &['隆']),
    ('博', &['柏', '波']),
    ('文', &['雯', '闻']),
    ('志', &['智', '致']),
    ('建', &['健', '剑']),
    ('晨', &['辰', '臣']),
    ('轩', &['宣', '萱']),
    ('雪', &['学']),
    ('悦', &['月', '越']),
    ('彤', &['桐', '童']),
    ('雨', &['宇', '语']),
    ('涵', &['晗', '函']),
    ('琪', &['琦', '棋']),
    ('倩', &['茜']),
    ('璐', &['露', '路']),
    ('薇', &['微', '威']),
    ('瑶', &['遥', '谣']),
    ('思', &['丝', '斯']),
    ('晓', &['小', '筱']),
    ('燕', &['艳', '雁']),
    ('王', &['汪']),
    ('吴', &['伍', '武']),
    ('周', &['舟']),
    ('徐', &['许']),
    ('许', &['徐']),
    ('郑', &['正']),
    ('孙', &['荪']),
    ('海', &['凯']),
    ('峰', &['锋', '丰']),
    ('亮', &['靓']),
    ('国', &['果']),
    ('红', &['虹', '宏']),
    ('霞', &['侠']),
    ('艳', &['燕', '彦']),
    ('萍', &['苹', '平']),
    ('月', &['悦']),
    ('丹', &['单']),
];

const JP_FAMILY: &[(&str, &str)] = &[
    ("佐藤", "sato"),
    ("鈴木", "suzuki"),
    ("高橋", "takahashi"),
    ("田中", "tanaka"),
    ("伊藤", "ito"),
    ("渡辺", "watanabe"),
    ("山本", "yamamoto"),
    ("中村", "nakamura"),
    ("小林", "kobayashi"),
    ("加藤", "kato"),
    ("吉田", "yoshida"),
    ("山田", "yamada"),
    ("佐々木", "sasaki"),
    ("山口", "yamaguchi"),
    ("松本", "matsumoto"),
    ("井上", "inoue"),
    ("木村", "kimura"),
    ("林", "hayashi"),
    ("斎藤", "saito"),
    ("清水", "shimizu"),
    ("山崎", "yamazaki"),
    ("森", "mori"),
    ("池田", "ikeda"),
    ("橋本", "hashimoto"),
    ("阿部", "abe"),
    ("石川", "ishikawa"),
    ("山下", "yamashita"),
    ("中島", "nakajima"),
    ("石井", "ishii"),
    ("小川", "ogawa"),
    ("前田", "maeda"),
    ("岡田", "okada"),
    ("長谷川", "hasegawa"),
    ("藤田", "fujita"),
    ("後藤", "goto"),
    ("近藤", "kondo"),
    ("村上", "murakami"),
    ("遠藤", "endo"),
    ("青木", "aoki"),
    ("坂本", "sakamoto"),
];
const JP_GIVEN_F: &[(&str, &str)] = &[
    ("陽菜", "hina"),
    ("結衣", "yui"),
    ("美咲", "misaki"),
    ("さくら", "sakura"),
    ("愛", "ai"),
    ("花子", "hanako"),
    ("恵子", "keiko"),
    ("由美", "yumi"),
    ("真由美", "mayumi"),
    ("明美", "akemi"),
    ("葵", "aoi"),
    ("陽子", "yoko"),
    ("直美", "naomi"),
    ("千尋", "chihiro"),
    ("舞", "mai"),
    ("彩", "aya"),
    ("優子", "yuko"),
    ("久美子", "kumiko"),
    ("七海", "nanami"),
    ("莉子", "riko"),
    ("凛", "rin"),
    ("芽依", "mei"),
    ("楓", "kaede"),
    ("京子", "kyoko"),
    ("美穂", "miho"),
];
const JP_GIVEN_M: &[(&str, &str)] = &[
    ("翔太", "shota"),
    ("大輔", "daisuke"),
    ("健太", "kenta"),
    ("拓也", "takuya"),
    ("蓮", "ren"),
    ("太郎", "taro"),
    ("誠", "makoto"),
    ("浩二", "koji"),
    ("直樹", "naoki"),
    ("和也", "kazuya"),
    ("大翔", "hiroto"),
    ("悠真", "yuma"),
    ("湊", "minato"),
    ("陽翔", "haruto"),
    ("隆", "takashi"),
    ("亮", "ryo"),
    ("剛", "tsuyoshi"),
    ("修", "osamu"),
    ("健一", "kenichi"),
    ("雄太", "yuta"),
    ("翼", "tsubasa"),
    ("駿", "shun"),
    ("一郎", "ichiro"),
    ("正人", "masato"),
    ("哲也", "tetsuya"),
];

const EN_GIVEN_F: &[&str] = &[
    "Olivia",
    "Emma",
    "Charlotte",
    "Amelia",
    "Sophia",
    "Isabella",
    "Mia",
    "Grace",
    "Chloe",
    "Emily",
    "Sarah",
    "Jessica",
    "Hannah",
    "Siobhan",
    "Zoë",
    "Mary Anne",
    "Aoife",
    "Renée",
    "Ava",
    "Lily",
    "Ella",
    "Poppy",
    "Freya",
    "Ruby",
    "Evie",
    "Isla",
    "Harper",
    "Abigail",
    "Madison",
    "Elizabeth",
    "Lucy",
    "Megan",
    "Laura",
    "Rebecca",
    "Niamh",
    "Chloë",
    "Katherine",
];
const EN_GIVEN_M: &[&str] = &[
    "James",
    "Oliver",
    "William",
    "Jack",
    "Noah",
    "Liam",
    "Ethan",
    "Michael",
    "Daniel",
    "Thomas",
    "Harry",
    "George",
    "Lucas",
    "Benjamin",
    "Seán",
    "John Paul",
    "Mohammed",
    "José",
    "Alexander",
    "Henry",
    "Samuel",
    "Joseph",
    "David",
    "Matthew",
    "Ryan",
    "Adam",
    "Christopher",
    "Andrew",
    "Joshua",
    "Nathan",
    "Callum",
    "Connor",
    "Aiden",
    "Elijah",
    "Owen",
    "Robert",
];
const EN_FAMILY: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Taylor",
    "Davies",
    "Wilson",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Wright",
    "Robinson",
    "Thompson",
    "White",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Wood",
    "Harris",
    "Martin",
    "Jackson",
    "Clarke",
    "O'Brien",
    "McDonald",
    "Murphy",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernández",
    "Lopez",
    "Nguyen",
    "Patel",
    "Kim",
    "Anderson",
    "Smith-Jones",
];
const DE_GIVEN_F: &[&str] = &[
    "Anna",
    "Lena",
    "Leonie",
    "Hannah",
    "Marie",
    "Sophie",
    "Lea",
    "Katharina",
    "Julia",
    "Gisela",
    "Anja",
    "Sabine",
    "Ursula",
    "Käthe",
    "Johanna",
    "Mia",
    "Emilia",
    "Clara",
    "Franziska",
    "Petra",
    "Birgit",
    "Jana",
];
const DE_GIVEN_M: &[&str] = &[
    "Lukas",
    "Leon",
    "Jonas",
    "Felix",
    "Maximilian",
    "Paul",
    "Jürgen",
    "Stefan",
    "Michael",
    "Thomas",
    "Andreas",
    "Jörg",
    "Klaus",
    "Tobias",
    "Florian",
    "Matthias",
    "Sebastian",
    "Moritz",
    "Uwe",
    "Dieter",
    "Tim",
];
const DE_FAMILY: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Krüger",
    "Hartmann",
    "Lange",
    "Weiß",
    "von Berg",
];
const FR_GIVEN_F: &[&str] = &[
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Élodie",
    "Sarah",
    "Juliette",
    "Maëlle",
    "Océane",
    "Anne-Sophie",
    "Hélène",
    "Margaux",
    "Pauline",
    "Émilie",
    "Clémence",
    "Audrey",
    "Nathalie",
    "Sandrine",
    "Zoé",
];
const FR_GIVEN_M: &[&str] = &[
    "Lucas",
    "Hugo",
    "Louis",
    "Théo",
    "Gabriel",
    "Raphaël",
    "Jules",
    "Mathéo",
    "Jean-Luc",
    "François",
    "Noël",
    "Jérôme",
    "Antoine",
    "Nicolas",
    "Julien",
    "Maxime",
    "Étienne",
    "Olivier",
    "Sébastien",
    "Arthur",
];
const FR_FAMILY: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Chevalier",
    "Mercier",
    "Faure",
    "Guérin",
    "Boyer",
    "Garnier",
    "de la Fontaine",
];
const SG_CN_FAMILY: &[&str] = &[
    "Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Chua", "Chan", "Koh", "Teo", "Ang", "Yeo",
    "Tay", "Ho", "Low", "Toh", "Sim", "Chong", "Chia",
];
/// Syllables of Singapore Chinese given names (two per name).
const SG_CN_SYLLABLES_F: &[&str] = &[
    "Hui", "Min", "Jia", "Mei", "Ling", "Siew", "Xin", "Yi", "Li", "Ting", "Shu", "Fen", "Pei",
    "Shan", "Wen", "Qi", "Xuan", "En", "Yu", "Hong", "Lay", "Bee", "Geok", "Swee",
];
const SG_CN_SYLLABLES_M: &[&str] = &[
    "Wei", "Ming", "Kok", "Leong", "Boon", "Kiat", "Jun", "Jie", "Zhi", "Hao", "Chee", "Keong",
    "Yong", "Sheng", "Kai", "Seng", "Guan", "Cheng", "Yu", "Rui", "Jin", "Hock", "Teck", "Meng",
];
const SG_MALAY_GIVEN_F: &[&str] = &[
    "Nur Aisyah",
    "Siti Nurhaliza",
    "Nurul Huda",
    "Farah",
    "Aishah",
    "Nur Izzati",
    "Siti Aminah",
    "Nadia",
    "Syafiqah",
    "Amirah",
    "Hidayah",
    "Zarina",
];
const SG_MALAY_GIVEN_M: &[&str] = &[
    "Muhammad Faizal",
    "Ahmad Firdaus",
    "Mohd Hafiz",
    "Irfan",
    "Hakim",
    "Muhammad Danial",
    "Azman",
    "Khairul Anuar",
    "Syed Ali",
    "Rizwan",
    "Haziq",
    "Amir",
];
const SG_MALAY_FATHER: &[&str] = &[
    "Ahmad", "Rahman", "Ismail", "Hassan", "Abdullah", "Osman", "Yusof", "Ibrahim", "Salleh",
    "Hamid", "Kassim", "Aziz",
];
const SG_IN_GIVEN_F: &[&str] = &[
    "Priya",
    "Kavitha",
    "Divya",
    "Lakshmi",
    "Meena",
    "Anitha",
    "Shalini",
    "Revathi",
    "Deepa",
    "Sangeetha",
];
const SG_IN_GIVEN_M: &[&str] = &[
    "Arjun", "Rajesh", "Suresh", "Vikram", "Ganesh", "Karthik", "Prakash", "Ravi", "Sanjay",
    "Vijay",
];
const SG_IN_FAMILY: &[&str] = &[
    "Raman",
    "Nair",
    "Kumar",
    "Pillai",
    "Menon",
    "Krishnan",
    "Subramaniam",
    "Rajan",
    "Naidu",
    "Chandran",
    "Singh",
    "Gopal",
];

/// Parts of less common surnames, combined (`Ashworth`, `Lindenbaum`, `Beaulieu`).
const EN_FAMILY_HEAD: &[&str] = &[
    "Ash", "Brad", "Brook", "Black", "Whit", "Hart", "Fair", "Green", "Hol", "Kings", "Lang",
    "Mar", "Nor", "Red", "Rad", "Sum", "Thorn", "Wal", "Wood", "Stan", "Craw", "Chat", "Bur",
    "Dun", "Ham", "Wes", "Mid", "Hather", "Pem", "Ald",
];
const EN_FAMILY_TAIL: &[&str] = &[
    "ley", "ton", "field", "well", "wood", "ford", "by", "ham", "worth", "more", "combe", "shaw",
    "bridge", "stone", "wick", "er", "den", "ridge",
];
const DE_FAMILY_HEAD: &[&str] = &[
    "Berg", "Stein", "Hof", "Wald", "Bach", "Brand", "Eich", "Feld", "Linden", "Rosen", "Schön",
    "Kirch", "Neu", "Alt", "Grün", "Hoch", "Lieb", "Mühl", "Sonnen", "Winter", "Brück", "Kess",
];
const DE_FAMILY_TAIL: &[&str] = &[
    "mann", "er", "hardt", "berg", "meier", "ling", "hoff", "baum", "bauer", "feld", "haus", "ner",
    "ke",
];
const FR_FAMILY_HEAD: &[&str] = &[
    "Du", "La", "Beau", "Mont", "Bel", "Bon", "Fon", "Val", "Roche", "Clair", "Mal", "Ver",
];
const FR_FAMILY_TAIL: &[&str] = &[
    "mont", "lieu", "croix", "champ", "pré", "bois", "val", "fort", "rue", "vert", "court", "mare",
    "tain", "ville", "noir",
];

fn family<R: Rng + ?Sized>(rng: &mut R, common: &[&str], head: &[&str], tail: &[&str]) -> String {
    if rng.random_bool(0.45) {
        format!("{}{}", pick(rng, head), pick(rng, tail))
    } else {
        pick_zipf(rng, common, 0.7).to_string()
    }
}

/// Lower-case ASCII form of a Latin name part (for emails and handles).
pub(crate) fn ascii_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'á' | 'à' | 'â' | 'ä' | 'å' | 'Á' | 'À' | 'Â' | 'Ä' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => out.push('e'),
            'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Î' | 'Ï' => out.push('i'),
            'ó' | 'ò' | 'ô' | 'ö' | 'Ó' | 'Ô' | 'Ö' | 'ø' => out.push('o'),
            'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Û' | 'Ü' => out.push('u'),
            'ç' | 'Ç' => out.push('c'),
            'ñ' => out.push('n'),
            'ß' => out.push_str("ss"),
            c if c.is_ascii_alphabetic() => out.push(c.to_ascii_lowercase()),
            _ => {}
        }
    }
    out
}

fn latin(given: &str, family: &str) -> Name {
    Name {
        given: given.into(),
        family: family.into(),
        family_first: false,
        cjk: false,
        connective: None,
        roman_given: ascii_fold(given),
        roman_family: ascii_fold(family),
    }
}

/// A name for a person of this country and gender.
pub(crate) fn name<R: Rng + ?Sized>(rng: &mut R, country: Country, gender: Gender) -> Name {
    let female = match gender {
        Gender::Female => true,
        Gender::Male => false,
        Gender::Other => rng.random_bool(0.5),
    };
    match country {
        Country::Cn => {
            let (family, roman_family) = if rng.random_bool(0.004) {
                *pick(rng, CN_COMPOUND_FAMILY)
            } else {
                *pick_zipf(rng, CN_FAMILY, 0.8)
            };
            let pool = if female { CN_GIVEN_F } else { CN_GIVEN_M };
            let (mut given, mut roman_given) = {
                let (g, r) = *pick_zipf(rng, pool, 0.9);
                (g.to_string(), r.to_string())
            };
            if rng.random_bool(0.75) {
                let (g2, r2) = *pick_zipf(rng, pool, 0.4);
                if rng.random_bool(0.5) {
                    given.push_str(g2);
                    roman_given.push_str(r2);
                } else {
                    given = format!("{g2}{given}");
                    roman_given = format!("{r2}{roman_given}");
                }
            }
            Name {
                given,
                family: family.into(),
                family_first: true,
                cjk: true,
                connective: None,
                roman_given,
                roman_family: roman_family.into(),
            }
        }
        Country::Jp => {
            let (family, rf) = *pick_zipf(rng, JP_FAMILY, 0.8);
            let (given, rg) = *pick(rng, if female { JP_GIVEN_F } else { JP_GIVEN_M });
            Name {
                given: given.into(),
                family: family.into(),
                family_first: true,
                cjk: true,
                connective: None,
                roman_given: rg.into(),
                roman_family: rf.into(),
            }
        }
        Country::Gb | Country::Us => latin(
            pick_zipf::<&str, _>(rng, if female { EN_GIVEN_F } else { EN_GIVEN_M }, 0.5),
            &family(rng, EN_FAMILY, EN_FAMILY_HEAD, EN_FAMILY_TAIL),
        ),
        Country::De => latin(
            pick_zipf::<&str, _>(rng, if female { DE_GIVEN_F } else { DE_GIVEN_M }, 0.5),
            &family(rng, DE_FAMILY, DE_FAMILY_HEAD, DE_FAMILY_TAIL),
        ),
        Country::Fr => latin(
            pick_zipf::<&str, _>(rng, if female { FR_GIVEN_F } else { FR_GIVEN_M }, 0.5),
            &family(rng, FR_FAMILY, FR_FAMILY_HEAD, FR_FAMILY_TAIL),
        ),
        Country::Sg => match weighted(rng, &[0.72, 0.16, 0.12]) {
            0 => {
                let family = *pick_zipf(rng, SG_CN_FAMILY, 0.8);
                let syllables = if female {
                    SG_CN_SYLLABLES_F
                } else {
                    SG_CN_SYLLABLES_M
                };
                let given = format!(
                    "{} {}",
                    pick(rng, syllables),
                    pick(rng, syllables).to_lowercase()
                );
                let given = title_words(&given);
                Name {
                    family_first: true,
                    ..latin(&given, family)
                }
            }
            1 => {
                let given = *pick(
                    rng,
                    if female {
                        SG_MALAY_GIVEN_F
                    } else {
                        SG_MALAY_GIVEN_M
                    },
                );
                Name {
                    connective: Some(if female { "binti" } else { "bin" }),
                    ..latin(given, pick::<&str, _>(rng, SG_MALAY_FATHER))
                }
            }
            _ => latin(
                pick::<&str, _>(rng, if female { SG_IN_GIVEN_F } else { SG_IN_GIVEN_M }),
                pick::<&str, _>(rng, SG_IN_FAMILY),
            ),
        },
    }
}

/// A full name written some other way than [`Name::full`].
pub(crate) fn full_variant<R: Rng + ?Sized>(rng: &mut R, name: &Name) -> String {
    let full = name.full();
    if name.cjk {
        return match rng.random_range(0..10) {
            // Japanese customers often type romaji.
            0..=4 if !name.roman_given.is_empty() && is_japanese(name) => {
                if rng.random_bool(0.5) {
                    name.romaji()
                } else {
                    format!(
                        "{} {}",
                        name.roman_family.to_uppercase(),
                        title(&name.roman_given)
                    )
                }
            }
            0..=5 => format!("{} {}", name.family, name.given),
            6..=7 => format!(" {full}"),
            _ => format!("{}  {}", name.family, name.given),
        };
    }
    match rng.random_range(0..10) {
        0..=2 => full.to_uppercase(),
        3..=4 => full.to_lowercase(),
        5 => full.replace(' ', "  "),
        6 => {
            let folded: String = full
                .split(' ')
                .map(|w| {
                    let f = ascii_fold(w);
                    if f.is_empty() {
                        w.to_string()
                    } else {
                        title(&f)
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            if folded == full {
                full.to_uppercase()
            } else {
                folded
            }
        }
        7 if name.family_first => format!("{} {}", name.given, name.family),
        _ => format!("{} {}", name.family.to_uppercase(), name.given),
    }
}

fn is_japanese(name: &Name) -> bool {
    JP_FAMILY.iter().any(|(f, _)| *f == name.family)
}

/// A name part written differently (case, spaces).
pub(crate) fn part_variant<R: Rng + ?Sized>(rng: &mut R, part: &str) -> String {
    if part
        .chars()
        .any(|c| !c.is_ascii() && c.is_alphabetic() && is_cjk(c))
    {
        return format!(" {part} ");
    }
    match rng.random_range(0..3) {
        0 => part.to_uppercase(),
        1 => part.to_lowercase(),
        _ => format!("{part} "),
    }
}

pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF)
}

/// The name with one typing mistake.
pub(crate) fn typo<R: Rng + ?Sized>(rng: &mut R, name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.is_empty() {
        return name.to_string();
    }
    if chars.iter().any(|c| is_cjk(*c)) {
        // A wrong homophone from the input method, mostly.
        let candidates: Vec<usize> = (0..chars.len())
            .filter(|i| HOMOPHONES.iter().any(|(c, _)| *c == chars[*i]))
            .collect();
        if !candidates.is_empty() && rng.random_bool(0.85) {
            let i = *pick(rng, &candidates);
            let alts = HOMOPHONES
                .iter()
                .find(|(c, _)| *c == chars[i])
                .map(|(_, a)| *a)
                .unwrap_or(&[]);
            if !alts.is_empty() {
                let mut out = chars.clone();
                out[i] = *pick(rng, alts);
                return out.into_iter().collect();
            }
        }
        let cjk: Vec<usize> = (0..chars.len()).filter(|i| is_cjk(chars[*i])).collect();
        let mut out = chars.clone();
        if cjk.len() >= 3 {
            // A character dropped.
            out.remove(cjk[rng.random_range(1..cjk.len())]);
        } else {
            // A character doubled.
            let i = *pick(rng, &cjk);
            out.insert(i, chars[i]);
        }
        return out.into_iter().collect();
    }
    let letters: Vec<usize> = (0..chars.len())
        .filter(|i| chars[*i].is_alphabetic())
        .collect();
    if letters.len() < 2 {
        return format!("{name}{}", chars[chars.len() - 1]);
    }
    let mut out = chars.clone();
    match rng.random_range(0..6) {
        0 => {
            // Dropped letter (not the first).
            out.remove(letters[rng.random_range(1..letters.len())]);
        }
        1 => {
            let i = *pick(rng, &letters);
            out.insert(i, chars[i]);
        }
        2 => {
            // Two adjacent letters swapped.
            let pairs: Vec<usize> = letters
                .windows(2)
                .filter(|w| w[1] == w[0] + 1 && chars[w[0]] != chars[w[1]])
                .map(|w| w[0])
                .collect();
            match pairs.first() {
                Some(_) => {
                    let i = *pick(rng, &pairs);
                    out.swap(i, i + 1);
                }
                None => out.insert(letters[0], chars[letters[0]]),
            }
        }
        3 if chars.contains(&' ') => {
            // The space between the words missing.
            if let Some(i) = chars.iter().position(|c| *c == ' ') {
                out.remove(i);
            }
        }
        _ => {
            // A neighbouring key.
            let i = letters[rng.random_range(1..letters.len())];
            let c = chars[i];
            let lower = c.to_ascii_lowercase();
            let near = neighbour(rng, lower);
            out[i] = if c.is_uppercase() {
                near.to_ascii_uppercase()
            } else {
                near
            };
        }
    }
    let s: String = out.into_iter().collect();
    if s == name {
        format!("{name}{}", chars[chars.len() - 1])
    } else {
        s
    }
}

/// A key next to `c` on a QWERTY keyboard.
pub(crate) fn neighbour<R: Rng + ?Sized>(rng: &mut R, c: char) -> char {
    const ROWS: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];
    for row in ROWS {
        if let Some(i) = row.find(c) {
            let b = row.as_bytes();
            let j = if i == 0 {
                1
            } else if i + 1 == b.len() || rng.random_bool(0.5) {
                i - 1
            } else {
                i + 1
            };
            return char::from(b[j]);
        }
    }
    match c {
        'é' | 'è' | 'ë' => 'e',
        'ü' => 'u',
        'ö' => 'o',
        'ä' => 'a',
        _ => 'e',
    }
}

/// Social nicknames (display names are not names).
pub(crate) fn nickname<R: Rng + ?Sized>(rng: &mut R, country: Country, name: &Name) -> String {
    if country == Country::Cn {
        const NICKS: &[&str] = &[
            "小鱼儿",
            "阳光",
            "Sunny",
            "木子",
            "一只猫",
            "快乐每一天",
            "Lily🌸",
            "奶茶不加糖",
            "Coco",
            "追风少年",
            "安静",
            "小太阳☀️",
            "Ada",
            "momo",
            "风吹麦浪",
            "Lucky",
        ];
        return match rng.random_range(0..4) {
            0 => format!(
                "{}{}",
                name.family,
                pick(rng, &["先生", "小姐", "同学", "老师"])
            ),
            1 => format!("{}{}", pick(rng, NICKS), rng.random_range(1..100)),
            _ => pick(rng, NICKS).to_string(),
        };
    }
    let given = name.roman_given.split(' ').next().unwrap_or("");
    match rng.random_range(0..4) {
        0 => title(given),
        1 => format!("{} ✨", title(given)),
        2 => format!(
            "{}{}",
            title(given),
            &name
                .roman_family
                .chars()
                .next()
                .map(|c| c.to_uppercase().to_string())
                .unwrap_or_default()
        ),
        _ => format!("{given}_{}", rng.random_range(1..1000)),
    }
}
