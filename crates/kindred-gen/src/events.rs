//! Events of one customer on each channel, with the fields each channel
//! really carries, and the mess applied to them.

use std::collections::{BTreeMap, BTreeSet};

use kindred_model::raw::{
    PosTransaction, RawAddress, RawConsent, RawEvent, RawOrder, SocialInteraction, WebEvent,
};
use kindred_model::LineItem;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::country::{full_width, Country, Phone};
use crate::dice::{kind, normal, pick, purpose, stream, weighted, zipf, Coins, Dice};
use crate::email;
use crate::names::{self, Gender};
use crate::options::MessRates;
use crate::people::{Card, Ch, Person, Platform, World};
use crate::Generated;

/// What the generator knows about an event besides the record: when it
/// happened, whose `k`-th event it is, and for a sale, the till.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meta {
    pub(crate) time: i64,
    pub(crate) person: u32,
    pub(crate) k: u32,
    /// POS: the store's index in its country and the terminal.
    pub(crate) till: Option<(Country, u16, u8)>,
}

/// Counts of what the mess did.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) phone_variants: u64,
    pub(crate) email_variants: u64,
    pub(crate) name_variants: u64,
    pub(crate) id_variants: u64,
    pub(crate) birthday_variants: u64,
    pub(crate) name_typos: u64,
    pub(crate) email_typos: u64,
    pub(crate) fields_missing: u64,
    pub(crate) junk_events: u64,
    pub(crate) old_phone_after_change: u64,
    pub(crate) partner_phone: u64,
    /// (field, raw value) -> (events, people).
    pub(crate) junk: BTreeMap<(&'static str, String), (u64, BTreeSet<u32>)>,
}

// Slots: which field of an event a decision is about.
const S_PHONE: u64 = 1;
const S_EMAIL: u64 = 2;
const S_NAME: u64 = 3;
const S_GIVEN: u64 = 4;
const S_FAMILY: u64 = 5;
const S_CARD: u64 = 6;
const S_PROGRAM: u64 = 7;
const S_PLATFORM: u64 = 8;
const S_BIRTHDAY: u64 = 9;
const S_ADDRESS: u64 = 10;
const S_JUNK: u64 = 11;
const S_PARTNER: u64 = 12;
const S_MISSING: u64 = 32;

struct Ev<'a> {
    world: &'a World,
    p: &'a Person,
    idx: u32,
    k: u32,
    t: i64,
    mess: &'a MessRates,
    coins: Coins,
}

impl Ev<'_> {
    fn b(&self, slot: u64) -> u64 {
        ((u64::from(self.k) + 1) << 7) | slot
    }

    fn hit(&self, rate: f64, kind: u64, slot: u64) -> bool {
        self.coins
            .hit(rate, kind, u64::from(self.idx), self.b(slot))
    }

    fn unit(&self, kind: u64, slot: u64) -> f64 {
        self.coins.unit(kind, u64::from(self.idx), self.b(slot))
    }

    fn dice(&self, kind: u64, slot: u64) -> Dice {
        self.coins.dice(kind, u64::from(self.idx), self.b(slot))
    }

    /// The phone the customer gives: mostly the main mobile, sometimes the
    /// second one or the home landline; after a change of number mostly the
    /// new one; in a household now and then the partner's.
    fn phone(
        &self,
        rng: &mut ChaCha8Rng,
        allow_home: bool,
        partner: bool,
        t: &mut Tally,
    ) -> Option<Phone> {
        let (u_which, u_home): (f64, f64) = (rng.random(), rng.random());
        let p = self.p;
        let home_share = if p.household.is_some() { 0.35 } else { 0.25 };
        let use_home =
            allow_home && p.home_phone.is_some() && (u_home < home_share || p.mobiles.is_empty());
        let mut phone = if use_home {
            p.home_phone.clone()?
        } else {
            let i = usize::from(p.mobiles.len() > 1 && u_which < 0.25);
            p.mobiles.get(i)?.clone()
        };
        if let Some((at, new)) = &p.phone_change {
            if self.t >= *at && Some(&phone) == p.mobiles.first() {
                if self.unit(kind::PHONE_CHANGE, S_PHONE) < 0.1 {
                    t.old_phone_after_change += 1;
                } else {
                    phone = new.clone();
                }
            }
        }
        if partner {
            if let Some(q) = p.partner {
                if self.unit(kind::HOUSEHOLD, S_PARTNER) < 0.2 {
                    if let Some(m) = self.world.people[q as usize].mobiles.first() {
                        t.partner_phone += 1;
                        phone = m.clone();
                    }
                }
            }
        }
        Some(phone)
    }

    fn phone_text(&self, phone: &Phone, t: &mut Tally) -> String {
        if self.hit(self.mess.phone_format, kind::PHONE_FORMAT, S_PHONE) {
            t.phone_variants += 1;
            phone.variant(&mut self.dice(kind::PHONE_FORMAT, S_PHONE))
        } else {
            phone.clean()
        }
    }

    /// A personal address the customer gives (not the account's).
    fn email(&self, rng: &mut ChaCha8Rng) -> Option<String> {
        let u: f64 = rng.random();
        let p = self.p;
        let i = usize::from(p.emails.len() > 1 && u < 0.2);
        let e = p.emails.get(i)?;
        if let Some((at, new)) = &p.email_change {
            if i == 0 && self.t >= *at && self.unit(kind::EMAIL_CHANGE, S_EMAIL) >= 0.1 {
                return Some(new.clone());
            }
        }
        Some(e.clone())
    }

    /// The web account's address: the changed one after a change, else the
    /// one the account was opened with (mistyped or not).
    fn account_email(&self) -> Option<String> {
        let p = self.p;
        if let Some((at, new)) = &p.email_change {
            if self.t >= *at {
                return Some(new.clone());
            }
        }
        p.account_email_typo
            .clone()
            .or_else(|| p.emails.first().cloned())
    }

    fn email_text(&self, e: &str, t: &mut Tally) -> String {
        let mut e = e.to_string();
        if self.hit(self.mess.email_typo, kind::EMAIL_TYPO, S_EMAIL) {
            t.email_typos += 1;
            e = email::typo(&mut self.dice(kind::EMAIL_TYPO, S_EMAIL), &e);
        }
        if self.hit(self.mess.email_format, kind::EMAIL_FORMAT, S_EMAIL) {
            t.email_variants += 1;
            e = email::variant(
                &mut self.dice(kind::EMAIL_FORMAT, S_EMAIL),
                &e,
                &self.p.full_name(),
            );
        }
        e
    }

    fn full_name_text(&self, t: &mut Tally) -> String {
        let name = &self.p.name;
        let mut s = if self.hit(self.mess.name_format, kind::NAME_FORMAT, S_NAME) {
            t.name_variants += 1;
            names::full_variant(&mut self.dice(kind::NAME_FORMAT, S_NAME), name)
        } else {
            name.full()
        };
        if self.hit(self.mess.name_typo, kind::NAME_TYPO, S_NAME) {
            t.name_typos += 1;
            s = names::typo(&mut self.dice(kind::NAME_TYPO, S_NAME), &s);
        }
        s
    }

    fn part_text(&self, part: &str, slot: u64, t: &mut Tally) -> String {
        let mut s = if self.hit(self.mess.name_format, kind::NAME_FORMAT, slot) {
            t.name_variants += 1;
            names::part_variant(&mut self.dice(kind::NAME_FORMAT, slot), part)
        } else {
            part.to_string()
        };
        if self.hit(self.mess.name_typo, kind::NAME_TYPO, slot) {
            t.name_typos += 1;
            s = names::typo(&mut self.dice(kind::NAME_TYPO, slot), s.trim());
        }
        s
    }

    fn card_text(&self, card: &Card, t: &mut Tally) -> (Option<String>, String) {
        let mut number = card.number.clone();
        if self.hit(self.mess.id_format, kind::ID_FORMAT, S_CARD) {
            t.id_variants += 1;
            let mut d = self.dice(kind::ID_FORMAT, S_CARD);
            number = match d.random_range(0..5) {
                0 => number
                    .as_bytes()
                    .chunks(4)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect::<Vec<_>>()
                    .join(" "),
                1 => full_width(&number),
                2 => format!(" {number} "),
                3 if number.starts_with('M') => number.to_lowercase(),
                3 => format!("{} {}", &number[..4], &number[4..]),
                _ => format!("{number}\t"),
            };
        }
        let program = match card.program {
            None if self.hit(self.mess.id_format, kind::ID_FORMAT, S_PROGRAM) => {
                t.id_variants += 1;
                Some(
                    pick(
                        &mut self.dice(kind::ID_FORMAT, S_PROGRAM),
                        &["MAIN", "main", " Main"],
                    )
                    .to_string(),
                )
            }
            None => None,
            Some(p) if self.hit(self.mess.id_format, kind::ID_FORMAT, S_PROGRAM) => {
                t.id_variants += 1;
                Some(format!("{} ", p.to_lowercase()))
            }
            Some(p) => Some(p.to_string()),
        };
        (program, number)
    }

    fn birthday_text(&self, t: &mut Tally) -> Option<String> {
        let (y, m, d) = self.p.birthday?;
        if !self.hit(self.mess.birthday_format, kind::BIRTHDAY_FORMAT, S_BIRTHDAY) {
            return Some(format!("{y:04}-{m:02}-{d:02}"));
        }
        t.birthday_variants += 1;
        let mut dice = self.dice(kind::BIRTHDAY_FORMAT, S_BIRTHDAY);
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let month = MONTHS[(m as usize).saturating_sub(1) % 12];
        Some(match (self.p.country, dice.random_range(0..4)) {
            (Country::Cn, 0) => format!("{y}/{m}/{d}"),
            (Country::Cn, 1) => format!("{y}年{m}月{d}日"),
            (Country::Cn, 2) => format!("{y:04}{m:02}{d:02}"),
            (Country::Cn, _) => format!("{y}.{m:02}.{d:02}"),
            (Country::Jp, 0 | 1) => format!("{y}/{m:02}/{d:02}"),
            (Country::Jp, _) => format!("{y}年{m}月{d}日"),
            // Month first, as Americans write dates.
            (Country::Us, 0 | 1) => format!("{m:02}/{d:02}/{y}"),
            (Country::Us, 2) => format!("{month} {d}, {y}"),
            (Country::Us, _) => format!("{m}/{d}/{y}"),
            (Country::De, 0 | 1) => format!("{d:02}.{m:02}.{y}"),
            (_, 0 | 1) => format!("{d:02}/{m:02}/{y}"),
            (_, 2) => format!("{d} {month} {y}"),
            (_, _) => format!("{d:02}-{m:02}-{y}"),
        })
    }

    fn address(&self, t: &mut Tally) -> RawAddress {
        let a = &self.p.address;
        let mut raw = RawAddress {
            line1: Some(a.line1.clone()),
            line2: a.line2.clone(),
            city: Some(a.city.clone()),
            region: a.region.clone(),
            postal_code: Some(a.postal_code.clone()),
            country: a.country.spellings().first().map(|s| s.to_string()),
        };
        if self.hit(self.mess.name_format, kind::NAME_FORMAT, S_ADDRESS) {
            t.name_variants += 1;
            let mut d = self.dice(kind::NAME_FORMAT, S_ADDRESS);
            match d.random_range(0..5) {
                0 | 1 => raw.country = Some(pick(&mut d, a.country.spellings()).to_string()),
                2 => {
                    raw.line1 = Some(match &a.line2 {
                        Some(l2) => format!("{}, {l2}", a.line1),
                        None => a.line1.to_uppercase(),
                    });
                    raw.line2 = None;
                }
                3 => {
                    raw.postal_code = Some(a.postal_code.replace(' ', "").to_lowercase());
                    raw.region = None;
                }
                _ => {
                    raw.line1 = Some(
                        a.line1
                            .replace("Street", "St")
                            .replace("Road", "Rd")
                            .replace("Avenue", "Ave")
                            .replace("号", "號"),
                    );
                    raw.country = None;
                }
            }
        }
        raw
    }

    /// A junk value replacing a phone, card or email: a placeholder of the
    /// cashier's, the store's own number or card, a form's test address.
    fn junk(
        &self,
        field: &'static str,
        store: Option<(Country, u16, u8)>,
        t: &mut Tally,
    ) -> String {
        let mut d = self.dice(kind::JUNK, S_JUNK);
        let store = store.and_then(|(c, i, _)| self.world.store(c, i));
        let cn = self.p.country == Country::Cn;
        let value = match field {
            "phone" => match (store, d.random_range(0..100)) {
                (Some(s), 0..=34) => s.phone.clean(),
                _ if cn => crate::dice::pick_zipf(&mut d, CN_JUNK_PHONES, 1.0).to_string(),
                _ => crate::dice::pick_zipf(&mut d, INTL_JUNK_PHONES, 1.0).to_string(),
            },
            "member_card" => match (store, d.random_range(0..100)) {
                (Some(s), 0..=44) => s.house_card.clone(),
                _ => crate::dice::pick_zipf(&mut d, JUNK_CARDS, 1.0).to_string(),
            },
            _ => crate::dice::pick_zipf(&mut d, JUNK_EMAILS, 1.0).to_string(),
        };
        t.junk_events += 1;
        let e = t.junk.entry((field, value.clone())).or_default();
        e.0 += 1;
        e.1.insert(self.idx);
        value
    }

    fn missing(&self, field: u64) -> bool {
        self.hit(self.mess.missing_field, kind::MISSING, S_MISSING + field)
    }
}

/// Placeholder phones Chinese cashiers type; the first ones are the most common.
const CN_JUNK_PHONES: &[&str] = &[
    "13800000000",
    "13800138000",
    "11111111111",
    "0000",
    "13888888888",
    "na",
    "00000000000",
    "12345678901",
    "13912345678",
    "18888888888",
    "无",
    "1",
];
const INTL_JUNK_PHONES: &[&str] = &[
    "0000000000",
    "n/a",
    "+1 555 555 5555",
    "07700 900000",
    "123456789",
    "000",
    "+44 7700 900123",
    "+44 20 7946 0000",
];
const JUNK_CARDS: &[&str] = &[
    "0000", "00000000", "88888888", "12345678", "test", "1", "999999", "na",
];
const JUNK_EMAILS: &[&str] = &[
    "test@test.com",
    "a@a.com",
    "123@qq.com",
    "noemail@qq.com",
    "none@none.com",
    "xxx@xxx.com",
    "asdf@asdf.com",
    "1@1.com",
    "na@na.com",
    "no@email.com",
];

fn basket(rng: &mut ChaCha8Rng, country: Country) -> (Vec<LineItem>, i64) {
    let n = 1 + zipf(rng, 6, 1.3);
    let per_line = country.median_basket_minor() / (n as f64).sqrt();
    let round = if country == Country::Jp { 10 } else { 100 };
    let lines: Vec<LineItem> = (0..n)
        .map(|_| {
            let price = (per_line * (0.7 * normal(rng)).exp()).max(100.0) as i64;
            let price = (price / round).max(1) * round
                - if round == 100 && rng.random_bool(0.3) {
                    1
                } else {
                    0
                };
            LineItem {
                sku: format!("SKU-{:05}", zipf(rng, 5000, 0.9)),
                quantity: if rng.random_bool(0.85) {
                    1
                } else {
                    rng.random_range(2..4)
                },
                unit_price_minor: price,
            }
        })
        .collect();
    let total = lines
        .iter()
        .map(|l| l.unit_price_minor * i64::from(l.quantity))
        .sum();
    (lines, total)
}

fn order(rng: &mut ChaCha8Rng, country: Country) -> RawOrder {
    let (lines, total) = basket(rng, country);
    let redeemed = if rng.random_bool(0.1) {
        rng.random_range(1..20) * 50
    } else {
        0
    };
    RawOrder {
        order_id: String::new(),
        total_minor: total,
        currency: country.currency().into(),
        lines,
        points_earned: total / 100,
        points_redeemed: redeemed,
    }
}

/// Drafts all events of customer `idx`.
pub(crate) fn person_events(
    world: &World,
    idx: u32,
    seed: u64,
    mess: &MessRates,
    tally: &mut Tally,
    out: &mut Vec<Generated>,
    meta: &mut Vec<Meta>,
) {
    let p = &world.people[idx as usize];
    let mut rng = stream(seed, purpose::EVENTS, u64::from(idx));
    let coins = Coins::new(seed);
    for (k, (&t, &ch)) in p.times.iter().zip(&p.channels).enumerate() {
        let ev = Ev {
            world,
            p,
            idx,
            k: k as u32,
            t,
            mess,
            coins,
        };
        let (event, till) = match ch {
            Ch::Pos => {
                let (e, till) = pos(&ev, &mut rng, tally);
                (RawEvent::Pos(e), Some(till))
            }
            Ch::Web => (RawEvent::Web(web(&ev, &mut rng, tally)), None),
            Ch::Social => (RawEvent::Social(social(&ev, &mut rng, tally)), None),
        };
        out.push(Generated { person: idx, event });
        meta.push(Meta {
            time: t,
            person: idx,
            k: k as u32,
            till,
        });
    }
}

fn pos(ev: &Ev, rng: &mut ChaCha8Rng, t: &mut Tally) -> (PosTransaction, (Country, u16, u8)) {
    let p = ev.p;
    let store_i = if rng.random_bool(0.8) {
        p.stores[0]
    } else {
        p.stores[1]
    };
    let terminals = ev
        .world
        .store(p.country, store_i)
        .map_or(3, |s| s.terminals);
    let terminal = rng.random_range(1..=terminals);
    let till = (p.country, store_i, terminal);
    let (u_card, u_mall, u_phone, u_name, u_cashier) = (
        rng.random::<f64>(),
        rng.random::<f64>(),
        rng.random::<f64>(),
        rng.random::<f64>(),
        rng.random::<f64>(),
    );
    let card = (!p.cards.is_empty() && u_card < 0.85).then(|| pick_card(p, ev.t, u_mall));
    let want_phone = if card.is_some() {
        u_phone < 0.25 && !p.guarded
    } else {
        true
    };
    let phone = if want_phone {
        ev.phone(rng, true, true, t)
    } else {
        None
    };
    let card = match (card, &phone) {
        (None, None) => p.cards.first(),
        (card, _) => card,
    };
    let (program, card_no) = match card {
        Some(c) => {
            let (program, number) = ev.card_text(c, t);
            (program, Some(number))
        }
        None => (None, None),
    };
    let (lines, mut total) = basket(rng, p.country);
    let refund = rng.random_bool(0.02);
    if refund {
        total = -total;
    }
    let (kinds, weights) = p.country.payment_types();
    let payment = kinds[weighted(rng, weights)];
    let mut e = PosTransaction {
        transaction_id: String::new(),
        store_id: ev
            .world
            .store(p.country, store_i)
            .map_or_else(|| format!("{}000", p.country.code()), |s| s.id.clone()),
        terminal_id: terminal.to_string(),
        receipt_no: String::new(),
        cashier_id: (u_cashier < 0.95).then(|| format!("C{:03}", rng.random_range(1..80))),
        loyalty_program: program,
        member_card_no: card_no,
        phone: phone.map(|ph| ev.phone_text(&ph, t)),
        customer_name: (u_name < 0.3).then(|| ev.full_name_text(t)),
        amount_minor: total,
        currency: p.country.currency().into(),
        line_items: lines,
        points_earned: if refund || card.is_none() {
            0
        } else {
            total / 100
        },
        points_redeemed: if card.is_some() && rng.random_bool(0.08) {
            rng.random_range(1..10) * 100
        } else {
            0
        },
        payment_type: Some(payment.into()),
        event_time: ev.t,
    };
    if ev.hit(ev.mess.junk_id, kind::JUNK, S_JUNK) {
        let field = if ev.unit(kind::JUNK, S_JUNK + 1) < 0.65 {
            "phone"
        } else {
            "member_card"
        };
        let junk = ev.junk(field, Some(till), t);
        if field == "phone" {
            e.phone = Some(junk);
        } else {
            e.member_card_no = Some(junk);
            e.loyalty_program = None;
        }
    }
    // Missing fields; an identified sale keeps one identifier.
    if e.member_card_no.is_some() && e.phone.is_some() {
        if ev.missing(0) {
            t.fields_missing += 1;
            e.member_card_no = None;
            e.loyalty_program = None;
        } else if ev.missing(1) {
            t.fields_missing += 1;
            e.phone = None;
        }
    }
    if e.customer_name.is_some() && ev.missing(2) {
        t.fields_missing += 1;
        e.customer_name = None;
    }
    if e.cashier_id.is_some() && ev.missing(3) {
        t.fields_missing += 1;
        e.cashier_id = None;
    }
    if e.payment_type.is_some() && ev.missing(4) {
        t.fields_missing += 1;
        e.payment_type = None;
    }
    (e, till)
}

fn pick_card(p: &Person, t: i64, u: f64) -> &Card {
    match (p.cards.len(), p.card_replaced_at) {
        (2, Some(at)) => &p.cards[usize::from(t >= at)],
        (2, None) if u < 0.3 => &p.cards[1],
        _ => &p.cards[0],
    }
}

fn web(ev: &Ev, rng: &mut ChaCha8Rng, t: &mut Tally) -> WebEvent {
    let p = ev.p;
    let account = p.account.as_ref();
    let opened = account.and_then(|a| a.opened_at);
    let can_login = account.is_some() && opened.is_none_or(|o| ev.t >= o);
    let signup = opened == Some(ev.t);
    let u_login: f64 = rng.random();
    let logged_in = can_login && (signup || u_login < 0.8);
    const LOGGED: [(&str, f64); 6] = [
        ("page_view", 40.0),
        ("add_to_cart", 15.0),
        ("order", 22.0),
        ("login", 12.0),
        ("profile_update", 6.0),
        ("consent_change", 5.0),
    ];
    const GUEST: [(&str, f64); 3] = [("page_view", 60.0), ("add_to_cart", 22.0), ("order", 18.0)];
    let event_type = if signup {
        "signup"
    } else if logged_in {
        LOGGED[weighted(rng, &LOGGED.map(|x| x.1))].0
    } else {
        GUEST[weighted(rng, &GUEST.map(|x| x.1))].0
    };
    // Chances of email, phone, name, birthday, gender, address, consents.
    let chances: [f64; 7] = match (event_type, logged_in) {
        ("signup", _) => [1.0, 0.5, 0.85, 0.5, 0.5, 0.2, 0.7],
        ("login", _) => [0.35, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0],
        ("order", true) => [0.9, 0.7, 0.9, 0.0, 0.0, 0.95, 0.1],
        ("order", false) => [0.92, 0.8, 0.95, 0.0, 0.0, 0.95, 0.2],
        ("profile_update", _) => [0.6, 0.4, 0.7, 0.4, 0.3, 0.3, 0.2],
        ("consent_change", _) => [0.4, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
        (_, true) => [0.02, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        _ => [0.0; 7],
    };
    let u: [f64; 9] = std::array::from_fn(|_| rng.random());
    let email = if u[0] < chances[0] {
        if logged_in {
            ev.account_email()
        } else {
            ev.email(rng)
        }
    } else {
        None
    };
    let phone = if u[1] < chances[1] && !p.guarded {
        ev.phone(rng, true, false, t)
    } else {
        None
    };
    let (name, given, family) = if u[2] < chances[2] {
        if u[7] < 0.5 {
            (Some(ev.full_name_text(t)), None, None)
        } else {
            (
                None,
                Some(ev.part_text(&p.name.given, S_GIVEN, t)),
                Some(ev.part_text(&p.name.family, S_FAMILY, t)),
            )
        }
    } else {
        (None, None, None)
    };
    let birthday = if u[3] < chances[3] {
        ev.birthday_text(t)
    } else {
        None
    };
    let gender = (u[4] < chances[4]).then(|| {
        let options: &[&str] = match (p.gender, p.country) {
            (Gender::Female, Country::Cn) => &["女", "F", "female"],
            (Gender::Male, Country::Cn) => &["男", "M", "male"],
            (Gender::Female, _) => &["F", "female", "Female", "Ms"],
            (Gender::Male, _) => &["M", "male", "Male", "Mr"],
            (Gender::Other, _) => &["other", "X", "prefer not to say"],
        };
        pick(rng, options).to_string()
    });
    let address = (u[5] < chances[5]).then(|| ev.address(t));
    let consents = if u[6] < chances[6] {
        let n = 1 + zipf(rng, 3, 1.0);
        (0..n)
            .map(|_| RawConsent {
                purpose: pick(rng, &["marketing", "personalised_ads", "profiling"]).to_string(),
                channel: pick(
                    rng,
                    if p.country == Country::Cn {
                        &["sms", "wechat", "email", "all"]
                    } else {
                        &["email", "sms", "push", "all"]
                    },
                )
                .to_string(),
                granted: rng.random_bool(0.7),
            })
            .collect()
    } else {
        Vec::new()
    };
    // Without a cookie (5%) only a logged-in or identified visitor is
    // attributable at all.
    let i = zipf(rng, p.devices.len(), 1.2);
    let device = (u[8] < 0.95 || !(logged_in || email.is_some() || phone.is_some()))
        .then(|| p.devices[i].clone());
    let sku = matches!(event_type, "page_view" | "add_to_cart")
        .then(|| format!("SKU-{:05}", zipf(rng, 5000, 0.9)));
    let order = (event_type == "order").then(|| order(rng, p.country));
    let mut e = WebEvent {
        event_id: String::new(),
        event_type: event_type.into(),
        user_id: if logged_in {
            account.map(|a| a.user_id.clone())
        } else {
            None
        },
        anonymous_id: device,
        email: email.map(|x| ev.email_text(&x, t)),
        phone: phone.map(|ph| ev.phone_text(&ph, t)),
        name,
        given_name: given,
        family_name: family,
        birthday,
        gender,
        address,
        sku,
        order,
        order_amount_minor: None,
        currency: None,
        consents,
        event_time: ev.t,
    };
    if matches!(event_type, "signup" | "order" | "profile_update")
        && ev.hit(ev.mess.junk_id, kind::JUNK, S_JUNK)
    {
        if ev.unit(kind::JUNK, S_JUNK + 1) < 0.6 {
            e.email = Some(ev.junk("email", None, t));
        } else {
            e.phone = Some(ev.junk("phone", None, t));
        }
    }
    // Missing fields, keeping one identifier.
    let ids = |e: &WebEvent| {
        [&e.user_id, &e.anonymous_id, &e.email, &e.phone]
            .iter()
            .filter(|v| v.is_some())
            .count()
    };
    for (i, slot) in [0u64, 1, 2, 3].into_iter().enumerate() {
        if ids(&e) > 1 && ev.missing(slot) {
            let field = match i {
                0 => &mut e.user_id,
                1 => &mut e.anonymous_id,
                2 => &mut e.email,
                _ => &mut e.phone,
            };
            if field.is_some() {
                t.fields_missing += 1;
                *field = None;
            }
        }
    }
    for (slot, field) in [
        (4u64, &mut e.name),
        (5, &mut e.given_name),
        (6, &mut e.family_name),
        (7, &mut e.birthday),
        (8, &mut e.gender),
    ] {
        if field.is_some() && ev.missing(slot) {
            t.fields_missing += 1;
            *field = None;
        }
    }
    if let Some(a) = &mut e.address {
        for (slot, field) in [
            (9u64, &mut a.postal_code),
            (10, &mut a.line2),
            (11, &mut a.region),
        ] {
            if field.is_some() && ev.missing(slot) {
                t.fields_missing += 1;
                *field = None;
            }
        }
    }
    e
}

fn social(ev: &Ev, rng: &mut ChaCha8Rng, t: &mut Tally) -> SocialInteraction {
    let p = ev.p;
    let acc = &p.socials[zipf(rng, p.socials.len(), 1.0)];
    const WECHAT: [(&str, f64); 5] = [
        ("follow", 8.0),
        ("like", 15.0),
        ("comment", 10.0),
        ("message", 20.0),
        ("mini_program_order", 25.0),
    ];
    const OTHER: [(&str, f64); 4] = [
        ("follow", 15.0),
        ("like", 40.0),
        ("comment", 25.0),
        ("message", 20.0),
    ];
    let interaction = if acc.platform == Platform::Wechat {
        WECHAT[weighted(rng, &WECHAT.map(|x| x.1))].0
    } else {
        OTHER[weighted(rng, &OTHER.map(|x| x.1))].0
    };
    let mini = interaction == "mini_program_order";
    let u: [f64; 6] = std::array::from_fn(|_| rng.random());
    let cn = p.country == Country::Cn;
    let (phone_chance, email_chance) = match interaction {
        "mini_program_order" => (0.65, 0.03),
        "message" => (0.05, if cn { 0.02 } else { 0.1 }),
        _ => (0.0, 0.0),
    };
    let phone = if u[0] < phone_chance && !p.guarded {
        ev.phone(rng, false, false, t)
    } else {
        None
    };
    let email = if u[1] < email_chance && !p.guarded {
        ev.email(rng)
    } else {
        None
    };
    let mut platform = acc.platform.name().to_string();
    if ev.hit(ev.mess.id_format, kind::ID_FORMAT, S_PLATFORM) {
        t.id_variants += 1;
        let mut d = ev.dice(kind::ID_FORMAT, S_PLATFORM);
        platform = if mini && d.random_bool(0.5) {
            pick(
                &mut d,
                &["wechat_mini_program", "miniprogram", "WeChat Mini Program"],
            )
            .to_string()
        } else {
            pick(&mut d, acc.platform.spellings()).to_string()
        };
    }
    let platform_user_id = if mini {
        acc.mini_program_id
            .clone()
            .unwrap_or_else(|| acc.user_id.clone())
    } else {
        acc.user_id.clone()
    };
    let sku = (matches!(interaction, "like" | "comment") && u[4] < 0.3)
        .then(|| format!("SKU-{:05}", zipf(rng, 5000, 0.9)));
    let order = mini.then(|| order(rng, p.country));
    let mut e = SocialInteraction {
        event_id: String::new(),
        platform,
        platform_user_id,
        union_id: acc.union_id.clone().filter(|_| u[2] < 0.9),
        handle: acc.handle.clone().filter(|_| u[3] < 0.5),
        display_name: (u[5] < 0.7).then(|| acc.display_name.clone()),
        phone: phone.map(|ph| ev.phone_text(&ph, t)),
        email: email.map(|x| ev.email_text(&x, t)),
        interaction_type: interaction.into(),
        sku,
        order,
        event_time: ev.t,
    };
    for (slot, field) in [
        (0u64, &mut e.union_id),
        (1, &mut e.handle),
        (2, &mut e.display_name),
        (3, &mut e.phone),
        (4, &mut e.email),
    ] {
        if field.is_some() && ev.missing(slot) {
            t.fields_missing += 1;
            *field = None;
        }
    }
    e
}
