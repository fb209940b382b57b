//! The synthetic customers: who they are, which identifiers they have, how
//! active they are on which channel, and the households, namesakes and
//! changes of phone or email that tie them together or apart.

use std::collections::{BTreeMap, HashSet};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::country::{self, address, landline, mobile, Address, Country, Phone};
use crate::dice::{
    digits_nz, hash_str, kind, normal, pick, purpose, random_chars, stream, weighted, Coins, ALNUM,
    BASE64URL, HEX,
};
use crate::email;
use crate::names::{self, nickname, Gender, Name};
use crate::options::{GenOptions, MessRates};

pub(crate) const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Ch {
    Pos,
    Web,
    Social,
}

/// A loyalty card: the retailer's own program (`MAIN`, written as no
/// program at all) or the shopping mall's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Card {
    pub(crate) program: Option<&'static str>,
    pub(crate) number: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Platform {
    Wechat,
    Weibo,
    Douyin,
    Xiaohongshu,
    Instagram,
    Facebook,
    Line,
    Whatsapp,
}

impl Platform {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Platform::Wechat => "wechat",
            Platform::Weibo => "weibo",
            Platform::Douyin => "douyin",
            Platform::Xiaohongshu => "xiaohongshu",
            Platform::Instagram => "instagram",
            Platform::Facebook => "facebook",
            Platform::Line => "line",
            Platform::Whatsapp => "whatsapp",
        }
    }

    /// Other ways integrations name the platform.
    pub(crate) fn spellings(self) -> &'static [&'static str] {
        match self {
            Platform::Wechat => &["WeChat", "weixin", "微信", "WECHAT", "wx"],
            Platform::Weibo => &["Weibo", "sina_weibo", "微博"],
            Platform::Douyin => &["Douyin", "抖音", "tiktok_cn"],
            Platform::Xiaohongshu => &["XHS", "RED", "小红书", "rednote"],
            Platform::Instagram => &["Instagram", "IG", "insta"],
            Platform::Facebook => &["Facebook", "FB", "fb"],
            Platform::Line => &["LINE", "Line"],
            Platform::Whatsapp => &["WhatsApp", "wa", "WHATSAPP"],
        }
    }
}

/// A customer's account on a social platform, as the brand's app sees it.
#[derive(Debug, Clone)]
pub(crate) struct SocialAccount {
    pub(crate) platform: Platform,
    /// The id in the brand's main app (a WeChat official-account openid).
    pub(crate) user_id: String,
    /// WeChat: the openid in the brand's mini-program (another app, another id).
    pub(crate) mini_program_id: Option<String>,
    /// WeChat: the unionid, the same in all the brand's apps, when the
    /// apps are bound to one open-platform account.
    pub(crate) union_id: Option<String>,
    pub(crate) handle: Option<String>,
    pub(crate) display_name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) user_id: String,
    /// Opened during the period (its first web event is the signup).
    pub(crate) opened_at: Option<i64>,
}

/// One synthetic customer.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub(crate) country: Country,
    pub(crate) gender: Gender,
    pub(crate) name: Name,
    pub(crate) birthday: Option<(i32, u32, u32)>,
    pub(crate) mobiles: Vec<Phone>,
    pub(crate) home_phone: Option<Phone>,
    /// A landline this person would have (used when a household shares one).
    landline: Phone,
    pub(crate) emails: Vec<String>,
    pub(crate) cards: Vec<Card>,
    /// The second card replaced the first (lost card) at this time;
    /// otherwise both are in use (the second is the mall's).
    pub(crate) card_replaced_at: Option<i64>,
    pub(crate) socials: Vec<SocialAccount>,
    pub(crate) account: Option<Account>,
    pub(crate) devices: Vec<String>,
    pub(crate) address: Address,
    pub(crate) stores: [u16; 2],
    /// Gives little away: no phone or email on social platforms or the web.
    pub(crate) guarded: bool,
    /// When each event happens (sorted) and on which channel.
    pub(crate) times: Vec<i64>,
    pub(crate) channels: Vec<Ch>,
    // Mess.
    pub(crate) household: Option<u32>,
    /// Household member whose mobile this person sometimes gives.
    pub(crate) partner: Option<u32>,
    pub(crate) phone_change: Option<(i64, Phone)>,
    pub(crate) email_change: Option<(i64, String)>,
    /// The web account was opened with this mistyped address.
    pub(crate) account_email_typo: Option<String>,
    pub(crate) namesake_of: Option<u32>,
}

impl Person {
    pub(crate) fn full_name(&self) -> String {
        self.name.full()
    }
}

/// A store of the retailer.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    pub(crate) id: String,
    pub(crate) phone: Phone,
    /// The card cashiers swipe for customers without one.
    pub(crate) house_card: String,
    pub(crate) terminals: u8,
}

#[derive(Debug, Clone)]
pub(crate) struct Household {
    pub(crate) members: Vec<u32>,
}

/// Everyone and everything the events refer to.
pub(crate) struct World {
    pub(crate) people: Vec<Person>,
    /// Stores per country, in `Country` order.
    pub(crate) stores: BTreeMap<Country, Vec<Store>>,
    pub(crate) households: Vec<Household>,
}

impl World {
    pub(crate) fn store(&self, country: Country, i: u16) -> Option<&Store> {
        self.stores
            .get(&country)
            .and_then(|s| s.get(usize::from(i)))
    }
}

/// Identifiers already given to someone, so that nobody shares one by accident.
#[derive(Default)]
struct Taken {
    phones: HashSet<u64>,
    emails: HashSet<u64>,
    cards: HashSet<u64>,
    accounts: HashSet<u64>,
}

impl Taken {
    fn phone<R: Rng + ?Sized>(&mut self, rng: &mut R, f: impl Fn(&mut R) -> Phone) -> Phone {
        loop {
            let p = f(rng);
            if self.phones.insert(p.key()) {
                return p;
            }
        }
    }

    fn email(&mut self, mut f: impl FnMut(u32) -> String) -> String {
        let mut attempt = 0;
        loop {
            let e = f(attempt);
            if self.emails.insert(hash_str(&email::mailbox_key(&e))) {
                return e;
            }
            attempt += 1;
        }
    }
}

fn uuid<R: Rng + ?Sized>(rng: &mut R) -> String {
    let h = random_chars(rng, HEX, 32);
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        char::from(b"89ab"[rng.random_range(0..4)]),
        &h[17..20],
        &h[20..32]
    )
}

/// Builds the world: stores, people (with namesakes inline), households,
/// and the changes of phone and email.
pub(crate) fn build(opts: &GenOptions, mess: &MessRates) -> World {
    let coins = Coins::new(opts.seed);
    let mut world_rng = stream(opts.seed, purpose::WORLD, 0);
    let mut taken = Taken::default();

    let mut stores = BTreeMap::new();
    for c in std::iter::once(Country::Cn).chain(Country::INTL) {
        let list: Vec<Store> = (0..c.stores())
            .map(|i| {
                let phone = taken.phone(&mut world_rng, |r| landline(r, c));
                Store {
                    id: format!("{}{:03}", c.code(), i + 1),
                    phone,
                    house_card: format!("88{:08}", 100 + u32::from(i) * 7 + c as u32 * 1000),
                    terminals: world_rng.random_range(2..7),
                }
            })
            .collect();
        stores.insert(c, list);
    }

    let intl = opts.international.as_array();
    let weights = opts.channels.as_array();
    let mut people = Vec::with_capacity(opts.people as usize);
    // Earlier people by (country, gender), for namesakes.
    let mut by_kind: BTreeMap<(Country, Gender), Vec<u32>> = BTreeMap::new();
    for i in 0..opts.people {
        let mut rng = stream(opts.seed, purpose::PERSON, u64::from(i));
        let country = country::country(&mut rng, opts.cn_share, &intl);
        let gender = match weighted(&mut rng, &[0.56, 0.42, 0.02]) {
            0 => Gender::Female,
            1 => Gender::Male,
            _ => Gender::Other,
        };
        let mut name = names::name(&mut rng, country, gender);
        let mut namesake_of = None;
        if coins.hit(mess.namesake, kind::NAMESAKE, u64::from(i), 0) {
            if let Some(earlier) = by_kind.get(&(country, gender)).filter(|v| !v.is_empty()) {
                let mut d = coins.dice(kind::NAMESAKE, u64::from(i), 0);
                let j = *pick(&mut d, earlier);
                name = people_name(&people, j);
                namesake_of = Some(j);
            }
        }
        by_kind.entry((country, gender)).or_default().push(i);
        let p = person(
            &mut rng,
            opts,
            &mut taken,
            &stores,
            &weights,
            country,
            gender,
            name,
            namesake_of,
        );
        people.push(p);
    }

    let mut world = World {
        people,
        stores,
        households: Vec::new(),
    };
    households(&mut world, &coins, mess);
    changes(&mut world, &coins, mess, &mut taken);
    world
}

fn people_name(people: &[Person], j: u32) -> Name {
    people[j as usize].name.clone()
}

#[allow(clippy::too_many_arguments)]
fn person(
    rng: &mut ChaCha8Rng,
    opts: &GenOptions,
    taken: &mut Taken,
    stores: &BTreeMap<Country, Vec<Store>>,
    weights: &[f64; 3],
    country: Country,
    gender: Gender,
    name: Name,
    namesake_of: Option<u32>,
) -> Person {
    let start_year = 1970 + (opts.start_ms / (365 * DAY_MS + DAY_MS / 4)) as i32;
    let birthday = rng.random_bool(0.85).then(|| {
        let age = (36.0 + 12.0 * normal(rng)).clamp(16.0, 85.0) as i32;
        let month = rng.random_range(1..=12u32);
        let days = match month {
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        (start_year - age, month, rng.random_range(1..=days))
    });
    let cn = country == Country::Cn;

    let n_mobiles = weighted(rng, &[0.07, 0.8, 0.13]);
    let mobiles: Vec<Phone> = (0..n_mobiles)
        .map(|_| taken.phone(rng, |r| mobile(r, country)))
        .collect();
    let landline = taken.phone(rng, |r| landline(r, country));
    let home_phone = rng
        .random_bool(if cn { 0.06 } else { 0.12 })
        .then(|| landline.clone());

    let n_emails = weighted(
        rng,
        if cn {
            &[0.3, 0.6, 0.1]
        } else {
            &[0.07, 0.73, 0.2]
        },
    );
    let mut emails = Vec::new();
    for e in 0..n_emails {
        let work = e == 1 && rng.random_bool(0.5);
        let birth_year = birthday.map(|b| b.0);
        let seed: u64 = rng.random();
        let address = taken.email(|attempt| {
            let mut r = stream(seed, 0, u64::from(attempt));
            if work {
                email::work(&mut r, &name, attempt)
            } else {
                email::personal(&mut r, country, &name, birth_year, attempt)
            }
        });
        emails.push(address);
    }

    let mut n_cards = weighted(rng, &[0.3, 0.6, 0.1]);
    if n_cards == 0 && mobiles.is_empty() {
        n_cards = 1;
    }
    let mut cards = Vec::new();
    let second_is_mall = rng.random_bool(0.55);
    for c in 0..n_cards {
        let mall = c == 1 && second_is_mall;
        loop {
            let card = if mall {
                Card {
                    program: Some("MALL"),
                    number: format!("M{}", digits_nz(rng, 9)),
                }
            } else {
                Card {
                    program: None,
                    number: format!(
                        "{}{}",
                        pick(rng, &["60", "61", "62", "66"]),
                        digits_nz(rng, 8)
                    ),
                }
            };
            let key = hash_str(&format!(
                "{}:{}",
                card.program.unwrap_or("MAIN"),
                card.number
            ));
            if taken.cards.insert(key) {
                cards.push(card);
                break;
            }
        }
    }

    // Channels: each customer's mix varies around the weights; some
    // customers never use a channel at all.
    let mut affinity = [0.0f64; 3];
    for (c, w) in weights.iter().enumerate() {
        let social_bias = if c == 2 && !cn { 0.6 } else { 1.0 };
        affinity[c] = w * social_bias * (0.8 * normal(rng)).exp();
        if rng.random_bool(0.3) {
            affinity[c] = 0.0;
        }
    }
    if affinity.iter().all(|a| *a <= 0.0) {
        let best = weighted(rng, weights);
        affinity[best] = 1.0;
    }

    let socials = socials(rng, country, &name, &mobiles, affinity[2] > 0.0);
    let devices: Vec<String> =
        (0..1 + usize::from(rng.random_bool(0.4)) + usize::from(rng.random_bool(0.15)))
            .map(|_| uuid(rng))
            .collect();
    let has_account = affinity[1] > 0.0 && rng.random_bool(0.8);
    let account_id = has_account.then(|| loop {
        let id = digits_nz(rng, 9);
        if taken.accounts.insert(hash_str(&id)) {
            break id;
        }
    });

    let address = address(rng, country);
    let n_stores = stores.get(&country).map(|s| s.len()).unwrap_or(1).max(1);
    let home = crate::dice::zipf(rng, n_stores, 0.9) as u16;
    let other = rng.random_range(0..n_stores) as u16;

    // Activity: 1 + floor(log-normal), capped.
    let a = &opts.activity;
    let sigma = a.spread.clamp(0.0, 3.0);
    let mean_x = (a.mean_events - 0.5).max(0.01);
    let mu = mean_x.ln() - sigma * sigma / 2.0;
    let x = (mu + sigma * normal(rng)).exp();
    let n = (1.0 + x.floor()).clamp(1.0, f64::from(a.max_events.max(1))) as usize;

    let start = opts.start_ms;
    let days = i64::from(opts.days.max(1));
    // A quarter of the customers are new: they appear during the period.
    let first_day = if rng.random_bool(0.25) {
        rng.random_range(0..days)
    } else {
        0
    };
    let mut plan: Vec<(i64, Ch)> = (0..n)
        .map(|_| {
            let ch = match weighted(rng, &affinity) {
                0 => Ch::Pos,
                1 => Ch::Web,
                _ => Ch::Social,
            };
            let day = rng.random_range(first_day..days);
            let local_s = local_second(rng, ch);
            let mut t = start + day * DAY_MS + (local_s - country.utc_offset_hours() * 3600) * 1000;
            // Keep local days that straddle the period's ends inside it.
            if t < start {
                t += DAY_MS;
            } else if t >= start + days * DAY_MS {
                t -= DAY_MS;
            }
            (t, ch)
        })
        .collect();
    plan.sort();
    let times: Vec<i64> = plan.iter().map(|p| p.0).collect();
    let channels: Vec<Ch> = plan.iter().map(|p| p.1).collect();

    let account = account_id.map(|user_id| {
        let new = rng.random_bool(0.3);
        let first_web = plan.iter().find(|p| p.1 == Ch::Web).map(|p| p.0);
        Account {
            user_id,
            opened_at: if new { first_web } else { None },
        }
    });
    let card_replaced_at = (cards.len() == 2 && cards[1].program.is_none() && n >= 2)
        .then(|| times[rng.random_range(1..n)]);

    Person {
        country,
        gender,
        name,
        birthday,
        mobiles,
        home_phone,
        landline,
        emails,
        cards,
        card_replaced_at,
        socials,
        account,
        devices,
        address,
        stores: [home, other],
        guarded: rng.random_bool(0.12),
        times,
        channels,
        household: None,
        partner: None,
        phone_change: None,
        email_change: None,
        account_email_typo: None,
        namesake_of,
    }
}

/// Local time of day in seconds, by channel: stores open 10-22, the web
/// shop and social apps peak in the evening.
fn local_second<R: Rng + ?Sized>(rng: &mut R, ch: Ch) -> i64 {
    const POS: [f64; 24] = [
        0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 3., 5., 8., 8., 6., 6., 7., 8., 10., 10., 8., 5.,
        0., 0.,
    ];
    const WEB: [f64; 24] = [
        2., 1., 0.5, 0.3, 0.3, 0.5, 1., 2., 3., 4., 4., 4., 5., 5., 4., 4., 4., 5., 6., 7., 9.,
        10., 9., 5.,
    ];
    const SOCIAL: [f64; 24] = [
        3., 2., 1., 0.5, 0.3, 0.3, 1., 3., 4., 3., 3., 3., 5., 5., 3., 3., 3., 4., 5., 6., 8., 10.,
        10., 7.,
    ];
    let hours = match ch {
        Ch::Pos => &POS,
        Ch::Web => &WEB,
        Ch::Social => &SOCIAL,
    };
    let h = weighted(rng, hours) as i64;
    h * 3600 + rng.random_range(0..3600)
}

fn socials<R: Rng + ?Sized>(
    rng: &mut R,
    country: Country,
    name: &Name,
    mobiles: &[Phone],
    uses_social: bool,
) -> Vec<SocialAccount> {
    let chances: &[(Platform, f64)] = match country {
        Country::Cn => &[
            (Platform::Wechat, 0.8),
            (Platform::Douyin, 0.35),
            (Platform::Xiaohongshu, 0.3),
            (Platform::Weibo, 0.2),
        ],
        Country::Jp => &[
            (Platform::Line, 0.7),
            (Platform::Instagram, 0.4),
            (Platform::Facebook, 0.15),
        ],
        Country::Sg => &[
            (Platform::Whatsapp, 0.4),
            (Platform::Instagram, 0.5),
            (Platform::Facebook, 0.35),
            (Platform::Wechat, 0.08),
        ],
        Country::Us => &[
            (Platform::Instagram, 0.5),
            (Platform::Facebook, 0.4),
            (Platform::Whatsapp, 0.08),
        ],
        _ => &[
            (Platform::Instagram, 0.5),
            (Platform::Facebook, 0.35),
            (Platform::Whatsapp, 0.35),
        ],
    };
    let mut platforms: Vec<Platform> = chances
        .iter()
        .filter(|(p, c)| rng.random_bool(*c) && (*p != Platform::Whatsapp || !mobiles.is_empty()))
        .map(|(p, _)| *p)
        .collect();
    if uses_social && platforms.is_empty() {
        platforms.push(chances[0].0);
        if platforms[0] == Platform::Whatsapp && mobiles.is_empty() {
            platforms[0] = Platform::Instagram;
        }
    }
    let handle_base = {
        let g = name.roman_given.replace([' ', '-', '\''], "");
        let f = name.roman_family.replace([' ', '-', '\''], "");
        match rng.random_range(0..4) {
            0 => format!("{g}.{f}"),
            1 => format!("{g}_{f}{}", rng.random_range(1..100)),
            2 => format!("{g}{}", rng.random_range(1..10_000)),
            _ => format!(
                "{}{}",
                f,
                random_chars(rng, b"abcdefghijklmnopqrstuvwxyz", 3)
            ),
        }
    };
    platforms
        .into_iter()
        .map(|platform| {
            let display_name = nickname(rng, country, name);
            let (user_id, mini_program_id, union_id, handle) = match platform {
                Platform::Wechat => (
                    format!("o6_bm{}", random_chars(rng, BASE64URL, 23)),
                    Some(format!("oQ8Tx{}", random_chars(rng, BASE64URL, 23))),
                    rng.random_bool(0.75)
                        .then(|| format!("oTmHY{}", random_chars(rng, BASE64URL, 23))),
                    None,
                ),
                Platform::Weibo => (
                    digits_nz(rng, 10),
                    None,
                    None,
                    Some(format!(
                        "{}{}",
                        display_name.replace(' ', ""),
                        rng.random_range(1..1000)
                    )),
                ),
                Platform::Douyin => (
                    format!("MS4wLjABAAAA{}", random_chars(rng, BASE64URL, 43)),
                    None,
                    None,
                    Some(format!("dy{}", random_chars(rng, ALNUM, 9).to_lowercase())),
                ),
                Platform::Xiaohongshu => (
                    random_chars(rng, HEX, 24),
                    None,
                    None,
                    Some(digits_nz(rng, 10)),
                ),
                Platform::Instagram => (
                    {
                        let n = rng.random_range(8..12);
                        digits_nz(rng, n)
                    },
                    None,
                    None,
                    Some(handle_base.clone()),
                ),
                Platform::Facebook => (digits_nz(rng, 16), None, None, None),
                Platform::Line => (format!("U{}", random_chars(rng, HEX, 32)), None, None, None),
                Platform::Whatsapp => (
                    // The WhatsApp id is the phone number's digits.
                    mobiles
                        .first()
                        .map(|m| m.e164().trim_start_matches('+').to_string())
                        .unwrap_or_else(|| digits_nz(rng, 11)),
                    None,
                    None,
                    None,
                ),
            };
            SocialAccount {
                platform,
                user_id,
                mini_program_id,
                union_id,
                handle,
                display_name,
            }
        })
        .collect()
}

/// Households: a share of customers live with another customer of the
/// same country. They share the address (mostly), a home landline (often),
/// sometimes a computer; a few give each other's mobile at the till.
fn households(world: &mut World, coins: &Coins, mess: &MessRates) {
    if mess.household <= 0.0 {
        return;
    }
    let n = world.people.len();
    let mut by_country: BTreeMap<Country, Vec<u32>> = BTreeMap::new();
    for i in 0..n {
        let country = world.people[i].country;
        let idx = i as u32;
        // A joiner moves in with an earlier customer: about `household`
        // of all customers end up in a household (joiner plus host).
        if coins.hit(mess.household / 2.0, kind::HOUSEHOLD, u64::from(idx), 0) {
            let mut d = coins.dice(kind::HOUSEHOLD, u64::from(idx), 0);
            let host = by_country
                .get(&country)
                .filter(|v| !v.is_empty())
                .map(|v| *pick(&mut d, v));
            if let Some(host) = host {
                join(world, host, idx, &mut d);
            }
        }
        by_country.entry(country).or_default().push(idx);
    }
}

fn join(world: &mut World, host: u32, joiner: u32, d: &mut impl Rng) {
    let h = match world.people[host as usize].household {
        Some(h) => {
            if world.households[h as usize].members.len() >= 4 {
                return;
            }
            h
        }
        None => {
            let h = world.households.len() as u32;
            world.households.push(Household {
                members: vec![host],
            });
            world.people[host as usize].household = Some(h);
            h
        }
    };
    world.households[h as usize].members.push(joiner);
    let (share_address, share_phone, share_device, lend_mobile, share_family) = (
        d.random_bool(0.85),
        d.random_bool(0.6),
        d.random_bool(0.25),
        d.random_bool(0.3),
        d.random_bool(0.5),
    );
    let share_phone = share_phone || !share_address;
    let hostp = world.people[host as usize].clone();
    let p = &mut world.people[joiner as usize];
    p.household = Some(h);
    if share_address {
        p.address = hostp.address.clone();
        p.stores = hostp.stores;
    }
    if share_phone {
        let home = hostp.home_phone.clone().unwrap_or(hostp.landline.clone());
        p.home_phone = Some(home.clone());
        world.people[host as usize].home_phone = Some(home);
    }
    let p = &mut world.people[joiner as usize];
    if share_device {
        if let Some(dev) = hostp.devices.first() {
            p.devices.push(dev.clone());
        }
    }
    if lend_mobile && !hostp.mobiles.is_empty() {
        p.partner = Some(host);
    }
    let family_shared = match p.country {
        Country::Cn => false,
        Country::Jp => true,
        Country::Sg => p.name.family_first && share_family,
        _ => share_family,
    };
    if family_shared && p.namesake_of.is_none() && p.name.connective.is_none() {
        p.name.family = hostp.name.family.clone();
        p.name.roman_family = hostp.name.roman_family.clone();
    }
}

/// Changes of phone number and email address during the period.
fn changes(world: &mut World, coins: &Coins, mess: &MessRates, taken: &mut Taken) {
    for (i, p) in world.people.iter_mut().enumerate() {
        let idx = i as u64;
        let n = p.times.len();
        if n < 2 {
            continue;
        }
        if !p.mobiles.is_empty() && coins.hit(mess.phone_change, kind::PHONE_CHANGE, idx, 0) {
            let mut d = coins.dice(kind::PHONE_CHANGE, idx, 0);
            let k = d.random_range(1..n);
            let at = p.times[k - 1] + (p.times[k] - p.times[k - 1]) / 2;
            let country = p.country;
            let phone = taken.phone(&mut d, |r| mobile(r, country));
            p.phone_change = Some((at, phone));
        }
        if !p.emails.is_empty() && coins.hit(mess.email_change, kind::EMAIL_CHANGE, idx, 0) {
            let mut d = coins.dice(kind::EMAIL_CHANGE, idx, 0);
            let k = d.random_range(1..n);
            let at = p.times[k - 1] + (p.times[k] - p.times[k - 1]) / 2;
            let seed: u64 = d.random();
            let (country, name, year) = (p.country, p.name.clone(), p.birthday.map(|b| b.0));
            let e = taken.email(|attempt| {
                let mut r = stream(seed, 1, u64::from(attempt));
                email::personal(&mut r, country, &name, year, attempt + 1)
            });
            p.email_change = Some((at, e));
        }
        if p.account.is_some()
            && !p.emails.is_empty()
            && coins.hit(mess.email_typo, kind::ACCOUNT_TYPO, idx, 0)
        {
            let mut d = coins.dice(kind::ACCOUNT_TYPO, idx, 0);
            p.account_email_typo = Some(email::typo(&mut d, &p.emails[0]));
        }
    }
}
