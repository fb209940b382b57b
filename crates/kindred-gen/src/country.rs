//! Countries: phone numbering, email providers, addresses, currencies.

use rand::Rng;

use crate::dice::{digits_nz, pick, pick_zipf, random_chars, weighted, DIGITS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Country {
    Cn,
    Gb,
    Us,
    Sg,
    Jp,
    De,
    Fr,
}

impl Country {
    pub(crate) const INTL: [Country; 6] = [
        Country::Gb,
        Country::Us,
        Country::Sg,
        Country::Jp,
        Country::De,
        Country::Fr,
    ];

    pub(crate) fn code(self) -> &'static str {
        match self {
            Country::Cn => "CN",
            Country::Gb => "GB",
            Country::Us => "US",
            Country::Sg => "SG",
            Country::Jp => "JP",
            Country::De => "DE",
            Country::Fr => "FR",
        }
    }

    pub(crate) fn currency(self) -> &'static str {
        match self {
            Country::Cn => "CNY",
            Country::Gb => "GBP",
            Country::Us => "USD",
            Country::Sg => "SGD",
            Country::Jp => "JPY",
            Country::De | Country::Fr => "EUR",
        }
    }

    /// Typical basket in minor units (JPY has none).
    pub(crate) fn median_basket_minor(self) -> f64 {
        match self {
            Country::Cn => 18_000.0,
            Country::Gb => 3_500.0,
            Country::Us => 4_500.0,
            Country::Sg => 6_000.0,
            Country::Jp => 4_500.0,
            Country::De | Country::Fr => 4_000.0,
        }
    }

    /// Offset of local time from UTC, hours (standard time).
    pub(crate) fn utc_offset_hours(self) -> i64 {
        match self {
            Country::Cn | Country::Sg => 8,
            Country::Gb => 0,
            Country::Us => -5,
            Country::Jp => 9,
            Country::De | Country::Fr => 1,
        }
    }

    pub(crate) fn calling_code(self) -> &'static str {
        match self {
            Country::Cn => "86",
            Country::Gb => "44",
            Country::Us => "1",
            Country::Sg => "65",
            Country::Jp => "81",
            Country::De => "49",
            Country::Fr => "33",
        }
    }

    /// National trunk prefix written before national numbers.
    fn trunk(self) -> &'static str {
        match self {
            Country::Us | Country::Sg => "",
            _ => "0",
        }
    }

    /// How many stores the retailer has there.
    pub(crate) fn stores(self) -> u16 {
        match self {
            Country::Cn => 60,
            Country::Gb | Country::Us => 12,
            Country::Jp => 8,
            Country::Sg | Country::De | Country::Fr => 6,
        }
    }

    /// The country as people type it; the first is the clean form.
    pub(crate) fn spellings(self) -> &'static [&'static str] {
        match self {
            Country::Cn => &["中国", "China", "CN", "PRC", "中华人民共和国", "china"],
            Country::Gb => &["United Kingdom", "UK", "GB", "England", "united kingdom"],
            Country::Us => &["United States", "USA", "US", "United States of America"],
            Country::Sg => &["Singapore", "SG", "新加坡", "singapore"],
            Country::Jp => &["Japan", "日本", "JP", "japan"],
            Country::De => &["Germany", "Deutschland", "DE", "germany"],
            Country::Fr => &["France", "FR", "france"],
        }
    }

    pub(crate) fn payment_types(self) -> (&'static [&'static str], &'static [f64]) {
        match self {
            Country::Cn => (
                &["wechat_pay", "alipay", "bank_card", "cash", "gift_card"],
                &[0.42, 0.38, 0.12, 0.05, 0.03],
            ),
            Country::Jp => (
                &["bank_card", "cash", "suica", "paypay"],
                &[0.45, 0.3, 0.15, 0.1],
            ),
            _ => (
                &["bank_card", "apple_pay", "cash", "gift_card"],
                &[0.6, 0.25, 0.12, 0.03],
            ),
        }
    }
}

/// A phone number: country and national significant number (no trunk 0).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Phone {
    pub(crate) country: Country,
    pub(crate) national: String,
    /// Digit groups of the national number as it is usually written.
    pub(crate) groups: Vec<u8>,
    pub(crate) mobile: bool,
}

impl Phone {
    pub(crate) fn e164(&self) -> String {
        format!("+{}{}", self.country.calling_code(), self.national)
    }

    /// The E.164 digits as a number, for uniqueness sets.
    pub(crate) fn key(&self) -> u64 {
        self.e164()
            .bytes()
            .filter(u8::is_ascii_digit)
            .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'))
    }

    /// The clean form: national digits for a Chinese mobile (as cashiers
    /// type them), `0AA-SSSSSSSS` for a Chinese landline, E.164 otherwise.
    pub(crate) fn clean(&self) -> String {
        match (self.country, self.mobile) {
            (Country::Cn, true) => self.national.clone(),
            (Country::Cn, false) => {
                let area = usize::from(self.groups.first().copied().unwrap_or(2));
                format!("0{}-{}", &self.national[..area], &self.national[area..])
            }
            _ => self.e164(),
        }
    }

    fn grouped(&self, sep: &str) -> String {
        let mut out = String::with_capacity(self.national.len() + 6);
        let mut at = 0;
        for (i, g) in self.groups.iter().enumerate() {
            let end = (at + usize::from(*g)).min(self.national.len());
            if i > 0 {
                out.push_str(sep);
            }
            out.push_str(&self.national[at..end]);
            at = end;
        }
        if at < self.national.len() {
            out.push_str(&self.national[at..]);
        }
        out
    }

    /// The number written some other way than [`Phone::clean`].
    pub(crate) fn variant<R: Rng + ?Sized>(&self, rng: &mut R) -> String {
        let cc = self.country.calling_code();
        let trunk = self.country.trunk();
        let s = match rng.random_range(0..100) {
            0..=11 => format!("+{cc} {}", self.grouped(" ")),
            12..=19 => format!("+{cc}{}", self.national),
            20..=27 => format!("00{cc}-{}", self.grouped("-")),
            28..=32 => format!("00{cc} {}", self.national),
            33..=38 => format!("(+{cc}) {}", self.grouped("-")),
            39..=43 => format!("+{cc}-{}", self.grouped("-")),
            44..=47 if trunk == "0" && self.country != Country::Cn => {
                format!("+{cc} (0){}", self.grouped(" "))
            }
            44..=47 => format!("{cc} {}", self.grouped(" ")),
            48..=51 => format!("{cc}{}", self.national),
            // National forms: what Chinese cashiers type, and what foreign
            // customers type on forms (unplaceable without their country).
            52..=63 => format!("{trunk}{}", self.grouped(" ")),
            64..=71 => format!("{trunk}{}", self.grouped("-")),
            72..=75 => format!("{trunk}{}", self.grouped(".")),
            76..=79 if self.country == Country::Us => {
                let g = self.grouped(" ");
                let (area, rest) = g.split_once(' ').unwrap_or(("", &g));
                format!("({area}) {}", rest.replacen(' ', "-", 1))
            }
            76..=79 if self.country == Country::De => {
                let g = self.grouped(" ");
                let (area, rest) = g.split_once(' ').unwrap_or(("", &g));
                format!("0{area}/{}", rest.replace(' ', ""))
            }
            76..=79 => format!("{trunk}{}", self.national),
            80..=85 => format!(" {} ", self.clean()),
            86..=90 => full_width(&self.clean()),
            91..=93 => full_width(&format!("+{cc} {}", self.grouped(" "))),
            _ => self.clean().replace('-', " "),
        };
        if s == self.clean() {
            format!("+{cc} {}", self.grouped(" "))
        } else {
            s
        }
    }
}

/// ASCII to full-width forms (`１３８`, `＋８６`), spaces to ideographic spaces.
pub(crate) fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            ' ' => '\u{3000}',
            _ => c,
        })
        .collect()
}

/// A new mobile number of `country`, drawn from ranges every numbering plan
/// metadata considers valid mobile ranges.
pub(crate) fn mobile<R: Rng + ?Sized>(rng: &mut R, country: Country) -> Phone {
    let (national, groups): (String, Vec<u8>) = match country {
        Country::Cn => {
            const PREFIXES: &[&str] = &[
                "138", "139", "136", "137", "135", "134", "150", "151", "152", "158", "159", "157",
                "182", "183", "187", "188", "130", "131", "132", "155", "156", "185", "186", "133",
                "153", "180", "181", "189", "177", "176", "199", "166", "198",
            ];
            let p = pick_zipf(rng, PREFIXES, 0.6);
            (
                format!("{p}{}", random_chars(rng, DIGITS, 8)),
                vec![3, 4, 4],
            )
        }
        Country::Gb => {
            let p = pick(
                rng,
                &[
                    "71", "72", "73", "771", "774", "777", "780", "784", "787", "790", "795", "798",
                ],
            );
            (
                format!("{p}{}", random_chars(rng, DIGITS, 10 - p.len())),
                vec![4, 6],
            )
        }
        Country::Us => (us_number(rng), vec![3, 3, 4]),
        Country::Sg => {
            let p = pick(
                rng,
                &[
                    "81", "82", "83", "84", "85", "86", "87", "88", "90", "91", "92", "93", "94",
                    "96", "97", "98",
                ],
            );
            (format!("{p}{}", random_chars(rng, DIGITS, 6)), vec![4, 4])
        }
        Country::Jp => {
            let p = pick(rng, &["90", "80", "70"]);
            let third = char::from(b'1' + rng.random_range(0..9u8));
            (
                format!("{p}{third}{}", random_chars(rng, DIGITS, 7)),
                vec![2, 4, 4],
            )
        }
        Country::De => {
            let p = pick(
                rng,
                &[
                    "151", "152", "157", "160", "162", "170", "171", "172", "173", "174", "175",
                    "176", "177", "178", "179",
                ],
            );
            let rest = if p.starts_with("15") {
                8
            } else {
                7 + rng.random_range(0..2)
            };
            (format!("{p}{}", digits_nz(rng, rest)), vec![3, 8])
        }
        Country::Fr => {
            let p = pick(rng, &["6", "6", "6", "7"]);
            let second = if *p == "7" {
                char::from(b'3' + rng.random_range(0..6u8))
            } else {
                *pick(rng, &['0', '1', '2', '4', '5', '6', '7', '8'])
            };
            (
                format!("{p}{second}{}", random_chars(rng, DIGITS, 7)),
                vec![1, 2, 2, 2, 2],
            )
        }
    };
    Phone {
        country,
        national,
        groups,
        mobile: true,
    }
}

/// A new landline number of `country` (a home or a store phone).
pub(crate) fn landline<R: Rng + ?Sized>(rng: &mut R, country: Country) -> Phone {
    let (national, groups): (String, Vec<u8>) = match country {
        Country::Cn => {
            let area = pick_zipf(
                rng,
                &["21", "10", "20", "755", "571", "28", "25", "27"],
                0.8,
            );
            let first = char::from(b'2' + rng.random_range(0..7u8));
            let n = format!("{area}{first}{}", random_chars(rng, DIGITS, 7));
            (n, vec![area.len() as u8, 4, 4])
        }
        Country::Gb => {
            if rng.random_bool(0.7) {
                let first = pick(rng, &["7", "8", "3"]);
                (
                    format!("20{first}{}", random_chars(rng, DIGITS, 7)),
                    vec![2, 4, 4],
                )
            } else {
                let first = char::from(b'2' + rng.random_range(0..8u8));
                (
                    format!("161{first}{}", random_chars(rng, DIGITS, 6)),
                    vec![3, 3, 4],
                )
            }
        }
        Country::Us => (us_number(rng), vec![3, 3, 4]),
        Country::Sg => {
            let second = *pick(rng, &['1', '2', '3', '4', '5', '7', '8']);
            (
                format!("6{second}{}", random_chars(rng, DIGITS, 6)),
                vec![4, 4],
            )
        }
        Country::Jp => {
            let area = pick(rng, &["3", "6"]);
            let first = char::from(b'2' + rng.random_range(0..8u8));
            (
                format!("{area}{first}{}", random_chars(rng, DIGITS, 7)),
                vec![1, 4, 4],
            )
        }
        Country::De => {
            let first = char::from(b'2' + rng.random_range(0..8u8));
            (
                format!("30{first}{}", random_chars(rng, DIGITS, 7)),
                vec![2, 8],
            )
        }
        Country::Fr => {
            let second = pick(rng, &["4", "5"]);
            (
                format!("1{second}{}", random_chars(rng, DIGITS, 7)),
                vec![1, 2, 2, 2, 2],
            )
        }
    };
    Phone {
        country,
        national,
        groups,
        mobile: false,
    }
}

/// A North American number in a real area code, avoiding 555 and N11 exchanges.
fn us_number<R: Rng + ?Sized>(rng: &mut R) -> String {
    const AREAS: &[&str] = &[
        "212", "646", "718", "917", "347", "213", "310", "415", "312", "773", "617", "202", "206",
        "305", "404", "512", "702", "818", "503", "612",
    ];
    let area = pick_zipf(rng, AREAS, 0.5);
    let exchange = loop {
        let e = rng.random_range(200..1000u32);
        if e != 555 && e % 100 != 11 && e / 10 != 95 && e / 10 != 97 {
            break e;
        }
    };
    format!("{area}{exchange}{}", random_chars(rng, DIGITS, 4))
}

/// Email providers per country with their weights.
pub(crate) fn email_domains(country: Country) -> (&'static [&'static str], &'static [f64]) {
    match country {
        Country::Cn => (
            &[
                "qq.com",
                "163.com",
                "126.com",
                "gmail.com",
                "sina.com",
                "foxmail.com",
                "139.com",
                "outlook.com",
                "icloud.com",
                "hotmail.com",
            ],
            &[0.38, 0.2, 0.1, 0.06, 0.05, 0.06, 0.04, 0.05, 0.04, 0.02],
        ),
        Country::Gb => (
            &[
                "gmail.com",
                "hotmail.co.uk",
                "outlook.com",
                "yahoo.co.uk",
                "btinternet.com",
                "icloud.com",
                "googlemail.com",
            ],
            &[0.42, 0.15, 0.12, 0.1, 0.08, 0.1, 0.03],
        ),
        Country::Us => (
            &[
                "gmail.com",
                "yahoo.com",
                "outlook.com",
                "hotmail.com",
                "icloud.com",
                "aol.com",
            ],
            &[0.5, 0.15, 0.1, 0.1, 0.12, 0.03],
        ),
        Country::Sg => (
            &[
                "gmail.com",
                "hotmail.com",
                "yahoo.com.sg",
                "outlook.com",
                "icloud.com",
            ],
            &[0.55, 0.15, 0.1, 0.1, 0.1],
        ),
        Country::Jp => (
            &[
                "gmail.com",
                "yahoo.co.jp",
                "docomo.ne.jp",
                "icloud.com",
                "ezweb.ne.jp",
                "outlook.jp",
            ],
            &[0.35, 0.25, 0.12, 0.15, 0.08, 0.05],
        ),
        Country::De => (
            &[
                "gmail.com",
                "web.de",
                "gmx.de",
                "t-online.de",
                "outlook.de",
                "icloud.com",
            ],
            &[0.3, 0.22, 0.22, 0.12, 0.07, 0.07],
        ),
        Country::Fr => (
            &[
                "gmail.com",
                "orange.fr",
                "free.fr",
                "hotmail.fr",
                "laposte.net",
                "outlook.fr",
                "sfr.fr",
            ],
            &[0.4, 0.15, 0.12, 0.12, 0.08, 0.08, 0.05],
        ),
    }
}

/// Work-email domains (fictional companies).
pub(crate) const WORK_DOMAINS: &[&str] = &[
    "brightstar.com.cn",
    "huaxin-tech.cn",
    "northwind.co.uk",
    "contoso.com",
    "fabrikam.com",
    "tailspin.sg",
    "adatum.de",
    "lumiere-conseil.fr",
    "sakura-trading.co.jp",
    "eastbay.com",
];

/// A postal address as the customer gives it (clean form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Address {
    pub(crate) line1: String,
    pub(crate) line2: Option<String>,
    pub(crate) city: String,
    pub(crate) region: Option<String>,
    pub(crate) postal_code: String,
    pub(crate) country: Country,
}

pub(crate) fn address<R: Rng + ?Sized>(rng: &mut R, country: Country) -> Address {
    match country {
        Country::Cn => {
            // (city, region, district, streets, postal prefix)
            const CITIES: &[(&str, &str, &str, &[&str], &str)] = &[
                (
                    "上海",
                    "上海市",
                    "浦东新区",
                    &["世纪大道", "张杨路", "陆家嘴环路", "锦绣路"],
                    "2001",
                ),
                (
                    "上海",
                    "上海市",
                    "徐汇区",
                    &["漕溪北路", "肇嘉浜路", "天钥桥路"],
                    "2000",
                ),
                (
                    "北京",
                    "北京市",
                    "朝阳区",
                    &["建国路", "朝阳北路", "望京街", "东三环中路"],
                    "1000",
                ),
                (
                    "北京",
                    "北京市",
                    "海淀区",
                    &["中关村大街", "学院路", "知春路"],
                    "1000",
                ),
                (
                    "广州",
                    "广东省",
                    "天河区",
                    &["天河路", "体育西路", "珠江新城华夏路"],
                    "5106",
                ),
                (
                    "深圳",
                    "广东省",
                    "南山区",
                    &["科技园南路", "深南大道", "后海大道"],
                    "5180",
                ),
                (
                    "杭州",
                    "浙江省",
                    "西湖区",
                    &["文三路", "天目山路", "古墩路"],
                    "3100",
                ),
                (
                    "成都",
                    "四川省",
                    "锦江区",
                    &["春熙路", "红星路", "东大街"],
                    "6100",
                ),
                (
                    "南京",
                    "江苏省",
                    "鼓楼区",
                    &["中山北路", "湖南路", "北京西路"],
                    "2100",
                ),
                (
                    "武汉",
                    "湖北省",
                    "武昌区",
                    &["中南路", "中北路", "徐东大街"],
                    "4300",
                ),
            ];
            let (city, region, district, streets, postal) = *pick_zipf(rng, CITIES, 0.7);
            let street = pick(rng, streets);
            Address {
                line1: format!("{district}{street}{}号", rng.random_range(1..1200)),
                line2: rng.random_bool(0.8).then(|| {
                    format!(
                        "{}栋{}{:02}室",
                        rng.random_range(1..30),
                        rng.random_range(1..33),
                        rng.random_range(1..9)
                    )
                }),
                city: city.into(),
                region: Some(region.into()),
                postal_code: format!("{postal}{:02}", rng.random_range(0..100)),
                country,
            }
        }
        Country::Gb => {
            const PLACES: &[(&str, &str)] = &[
                ("London", "SW"),
                ("London", "N"),
                ("London", "E"),
                ("Manchester", "M"),
                ("Birmingham", "B"),
                ("Leeds", "LS"),
                ("Edinburgh", "EH"),
                ("Bristol", "BS"),
            ];
            const STREETS: &[&str] = &[
                "High Street",
                "Station Road",
                "Church Lane",
                "Victoria Road",
                "Park Avenue",
                "Queen's Road",
                "Mill Lane",
                "King Street",
                "St John's Wood Road",
            ];
            let (city, area) = *pick_zipf(rng, PLACES, 0.6);
            Address {
                line1: format!("{} {}", rng.random_range(1..240), pick(rng, STREETS)),
                line2: rng
                    .random_bool(0.3)
                    .then(|| format!("Flat {}", rng.random_range(1..40))),
                city: city.into(),
                region: None,
                postal_code: format!(
                    "{area}{} {}{}",
                    rng.random_range(1..20),
                    rng.random_range(1..10),
                    random_chars(rng, b"ABDEFGHJLNPQRSTUWXYZ", 2)
                ),
                country,
            }
        }
        Country::Us => {
            const PLACES: &[(&str, &str, &str)] = &[
                ("New York", "NY", "100"),
                ("Brooklyn", "NY", "112"),
                ("Los Angeles", "CA", "900"),
                ("San Francisco", "CA", "941"),
                ("Chicago", "IL", "606"),
                ("Boston", "MA", "021"),
                ("Seattle", "WA", "981"),
                ("Austin", "TX", "787"),
            ];
            const STREETS: &[&str] = &[
                "Main St",
                "Oak Avenue",
                "Maple Ave",
                "Broadway",
                "Elm Street",
                "Washington Blvd",
                "Lakeview Drive",
                "5th Avenue",
                "Sunset Boulevard",
            ];
            let (city, state, zip) = *pick_zipf(rng, PLACES, 0.6);
            Address {
                line1: format!("{} {}", rng.random_range(1..9000), pick(rng, STREETS)),
                line2: rng.random_bool(0.35).then(|| {
                    format!(
                        "Apt {}{}",
                        rng.random_range(1..30),
                        pick(rng, &["A", "B", "C", "D", ""])
                    )
                }),
                city: city.into(),
                region: Some(state.into()),
                postal_code: format!("{zip}{:02}", rng.random_range(0..100)),
                country,
            }
        }
        Country::Sg => {
            const STREETS: &[&str] = &[
                "Ang Mo Kio Avenue 3",
                "Tampines Street 21",
                "Bedok North Road",
                "Jurong West Street 41",
                "Toa Payoh Lorong 1",
                "Orchard Road",
                "Clementi Avenue 2",
                "Punggol Field",
            ];
            let blk = rng.random_range(1..700);
            Address {
                line1: format!("Blk {blk} {}", pick(rng, STREETS)),
                line2: Some(format!(
                    "#{:02}-{:03}",
                    rng.random_range(1..25),
                    rng.random_range(1..400)
                )),
                city: "Singapore".into(),
                region: None,
                postal_code: format!(
                    "{:02}{:04}",
                    rng.random_range(10..83),
                    rng.random_range(0..10_000)
                ),
                country,
            }
        }
        Country::Jp => {
            const PLACES: &[(&str, &str, &[&str], &str)] = &[
                ("東京都", "渋谷区", &["神南", "宇田川町", "道玄坂"], "150"),
                (
                    "東京都",
                    "新宿区",
                    &["西新宿", "歌舞伎町", "高田馬場"],
                    "160",
                ),
                ("東京都", "港区", &["六本木", "赤坂", "芝浦"], "106"),
                ("大阪府", "大阪市北区", &["梅田", "曽根崎", "天神橋"], "530"),
                ("神奈川県", "横浜市西区", &["みなとみらい", "高島"], "220"),
            ];
            let (pref, city, areas, zip) = *pick_zipf(rng, PLACES, 0.6);
            Address {
                line1: format!(
                    "{}{}-{}-{}",
                    pick(rng, areas),
                    rng.random_range(1..6),
                    rng.random_range(1..30),
                    rng.random_range(1..20)
                ),
                line2: rng
                    .random_bool(0.5)
                    .then(|| format!("{}号室", rng.random_range(101..1500))),
                city: city.into(),
                region: Some(pref.into()),
                postal_code: format!("{zip}-{:04}", rng.random_range(0..10_000)),
                country,
            }
        }
        Country::De => {
            const PLACES: &[(&str, &str)] = &[
                ("Berlin", "10"),
                ("München", "80"),
                ("Hamburg", "20"),
                ("Köln", "50"),
                ("Frankfurt am Main", "60"),
            ];
            const STREETS: &[&str] = &[
                "Hauptstraße",
                "Schillerstraße",
                "Goethestraße",
                "Bahnhofstraße",
                "Gartenweg",
                "Lindenallee",
                "Müllerstraße",
                "Schloßstraße",
            ];
            let (city, zip) = *pick_zipf(rng, PLACES, 0.6);
            Address {
                line1: format!("{} {}", pick(rng, STREETS), rng.random_range(1..180)),
                line2: None,
                city: city.into(),
                region: None,
                postal_code: format!("{zip}{:03}", rng.random_range(0..1000)),
                country,
            }
        }
        Country::Fr => {
            const PLACES: &[(&str, &str)] = &[
                ("Paris", "750"),
                ("Lyon", "6900"),
                ("Marseille", "130"),
                ("Toulouse", "3100"),
                ("Bordeaux", "3300"),
            ];
            const STREETS: &[&str] = &[
                "rue de la République",
                "avenue des Champs-Élysées",
                "boulevard Saint-Germain",
                "rue Victor Hugo",
                "place de l'Église",
                "rue du Faubourg Saint-Honoré",
                "allée des Tilleuls",
            ];
            let (city, zip) = *pick_zipf(rng, PLACES, 0.6);
            let pad = 5 - zip.len();
            Address {
                line1: format!("{} {}", rng.random_range(1..150), pick(rng, STREETS)),
                line2: rng
                    .random_bool(0.25)
                    .then(|| format!("Bâtiment {}", pick(rng, &["A", "B", "C"]))),
                city: city.into(),
                region: None,
                postal_code: format!("{zip}{}", random_chars(rng, DIGITS, pad)),
                country,
            }
        }
    }
}

/// The country of one customer.
pub(crate) fn country<R: Rng + ?Sized>(rng: &mut R, cn_share: f64, intl: &[f64; 6]) -> Country {
    if rng.random::<f64>() < cn_share {
        Country::Cn
    } else {
        Country::INTL[weighted(rng, intl)]
    }
}
