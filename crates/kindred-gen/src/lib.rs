//! A seeded, deterministic generator of multi-channel retail events with
//! ground truth: every generated event records which synthetic person it
//! belongs to, so resolution accuracy can be measured.
//!
//! This is the small first version used by `kindred demo` and the tests.

use kindred_model::raw::{PosTransaction, RawEvent, SocialInteraction, WebEvent};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub seed: u64,
    pub people: u32,
    /// Start of the simulated period, ms since the Unix epoch.
    pub start_ms: i64,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            seed: 42,
            people: 100,
            start_ms: 1_735_689_600_000, // 2025-01-01T00:00:00Z
        }
    }
}

/// One generated event and the person it truly belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub person: u32,
    pub event: RawEvent,
}

/// A synthetic person's true identifiers.
#[derive(Debug, Clone)]
struct Person {
    name: String,
    phone: String,
    email: String,
    member_card: String,
    wechat_openid: String,
}

const FAMILY: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
];
const GIVEN: [&str; 12] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军",
];
const LATIN_FIRST: [&str; 8] = [
    "Maria", "James", "Aiko", "Lucas", "Nadia", "Omar", "Chloe", "Ethan",
];
const LATIN_LAST: [&str; 8] = [
    "Sentosa", "Smith", "Tanaka", "Silva", "Khan", "Haddad", "Martin", "Lee",
];
const DOMAINS: [&str; 5] = ["qq.com", "163.com", "gmail.com", "outlook.com", "126.com"];

fn person(rng: &mut ChaCha8Rng, i: u32) -> Person {
    let latin = rng.random_bool(0.3);
    let name = if latin {
        format!(
            "{} {}",
            LATIN_FIRST.choose(rng).copied().unwrap_or("Alex"),
            LATIN_LAST.choose(rng).copied().unwrap_or("Doe")
        )
    } else {
        format!(
            "{}{}",
            FAMILY.choose(rng).copied().unwrap_or("王"),
            GIVEN.choose(rng).copied().unwrap_or("伟")
        )
    };
    // Unique per person by construction (the index is part of each value).
    let phone = format!(
        "13{}{:08}",
        rng.random_range(0..10),
        10_000_000 + i * 37 % 89_999_999
    );
    Person {
        email: format!(
            "user{i}.{:04}@{}",
            rng.random_range(0..10_000),
            DOMAINS.choose(rng).copied().unwrap_or("qq.com")
        ),
        member_card: format!("M{:08}", 10_000 + i),
        wechat_openid: format!("o6_{:08x}{:04x}", i, rng.random_range(0..0xffffu32)),
        name,
        phone,
    }
}

/// Writes a phone the way a cashier or a form might.
fn phone_variant(rng: &mut ChaCha8Rng, phone: &str) -> String {
    match rng.random_range(0..4) {
        0 => phone.to_string(),
        1 => format!("+86 {} {} {}", &phone[..3], &phone[3..7], &phone[7..]),
        2 => format!("0086-{}-{}-{}", &phone[..3], &phone[3..7], &phone[7..]),
        _ => format!("{} {} {}", &phone[..3], &phone[3..7], &phone[7..]),
    }
}

/// Generates the events of `opts.people` people, 1 to 6 events each, over
/// three channels, sorted by event time. Deterministic for a given seed.
pub fn generate(opts: &GenOptions) -> Vec<Generated> {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut out = Vec::new();
    let mut seq = 0u64;
    for i in 0..opts.people {
        let p = person(&mut rng, i);
        let n_events = rng.random_range(1..=6);
        for _ in 0..n_events {
            seq += 1;
            let t = opts.start_ms + rng.random_range(0..30 * 24 * 3_600_000i64);
            let event = match rng.random_range(0..3) {
                0 => RawEvent::Pos(pos_event(&mut rng, &p, seq, t)),
                1 => RawEvent::Web(web_event(&mut rng, &p, seq, t)),
                _ => RawEvent::Social(social_event(&mut rng, &p, seq, t)),
            };
            out.push(Generated { person: i, event });
        }
    }
    out.sort_by_key(|g| (event_time(&g.event), g.event.source_id().to_string()));
    out
}

fn event_time(e: &RawEvent) -> i64 {
    match e {
        RawEvent::Pos(e) => e.event_time,
        RawEvent::Web(e) => e.event_time,
        RawEvent::Social(e) => e.event_time,
    }
}

fn pos_event(rng: &mut ChaCha8Rng, p: &Person, seq: u64, t: i64) -> PosTransaction {
    let amount = rng.random_range(1_000..200_000);
    PosTransaction {
        transaction_id: format!("T{seq:09}"),
        store_id: format!("S{:03}", rng.random_range(1..40)),
        terminal_id: rng.random_range(1..6).to_string(),
        receipt_no: format!("R{seq:09}"),
        cashier_id: Some(format!("C{:02}", rng.random_range(1..20))),
        loyalty_program: None,
        member_card_no: Some(p.member_card.clone()),
        phone: rng.random_bool(0.5).then(|| phone_variant(rng, &p.phone)),
        customer_name: rng.random_bool(0.6).then(|| p.name.clone()),
        amount_minor: amount,
        currency: "CNY".into(),
        line_items: vec![kindred_model::LineItem {
            sku: format!("SKU-{:05}", rng.random_range(0..5_000)),
            quantity: 1,
            unit_price_minor: amount,
        }],
        points_earned: amount / 100,
        points_redeemed: if rng.random_bool(0.1) { 50 } else { 0 },
        payment_type: ["alipay", "wechat_pay", "bank_card", "cash"]
            .choose(rng)
            .map(|s| s.to_string()),
        event_time: t,
    }
}

fn web_event(rng: &mut ChaCha8Rng, p: &Person, seq: u64, t: i64) -> WebEvent {
    let is_order = rng.random_bool(0.4);
    let sku = format!("SKU-{:05}", rng.random_range(0..5_000));
    let order = is_order.then(|| {
        let total = rng.random_range(1_000..100_000);
        kindred_model::raw::RawOrder {
            order_id: format!("O{seq:09}"),
            total_minor: total,
            currency: "CNY".into(),
            lines: vec![kindred_model::LineItem {
                sku: sku.clone(),
                quantity: 1,
                unit_price_minor: total,
            }],
            points_earned: total / 100,
            points_redeemed: 0,
        }
    });
    let email = if rng.random_bool(0.3) {
        p.email.to_uppercase()
    } else {
        p.email.clone()
    };
    WebEvent {
        event_id: format!("W{seq:09}"),
        event_type: if is_order { "order" } else { "page_view" }.into(),
        user_id: Some(format!("u{}", p.member_card.trim_start_matches('M'))),
        anonymous_id: None,
        email: Some(email),
        phone: rng.random_bool(0.4).then(|| phone_variant(rng, &p.phone)),
        name: rng.random_bool(0.5).then(|| p.name.clone()),
        given_name: None,
        family_name: None,
        birthday: None,
        gender: None,
        address: None,
        sku: (!is_order).then_some(sku),
        order,
        order_amount_minor: None,
        currency: None,
        consents: vec![],
        event_time: t,
    }
}

fn social_event(rng: &mut ChaCha8Rng, p: &Person, seq: u64, t: i64) -> SocialInteraction {
    SocialInteraction {
        event_id: format!("S{seq:09}"),
        platform: "wechat".into(),
        platform_user_id: p.wechat_openid.clone(),
        union_id: None,
        handle: None,
        display_name: None,
        phone: rng.random_bool(0.6).then(|| phone_variant(rng, &p.phone)),
        email: rng.random_bool(0.2).then(|| p.email.clone()),
        interaction_type: ["follow", "like", "comment", "message"]
            .choose(rng)
            .copied()
            .unwrap_or("like")
            .into(),
        sku: None,
        order: None,
        event_time: t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_events() {
        let opts = GenOptions {
            people: 50,
            ..GenOptions::default()
        };
        assert_eq!(generate(&opts), generate(&opts));
        let other = generate(&GenOptions {
            seed: 7,
            ..opts.clone()
        });
        assert_ne!(generate(&opts), other);
    }

    #[test]
    fn every_person_has_events_on_some_channel() {
        let events = generate(&GenOptions {
            people: 30,
            ..GenOptions::default()
        });
        let people: std::collections::BTreeSet<_> = events.iter().map(|g| g.person).collect();
        assert_eq!(people.len(), 30);
    }
}

/// File names [`write_files`] uses in its directory.
pub const TRUTH_FILE: &str = "truth.csv";

/// The JSON-lines file of a channel's raw records.
pub fn channel_file(channel: kindred_model::Channel) -> String {
    format!("{}.jsonl", channel.as_str())
}

/// Writes generated events as a channel system's JSON would look (one file
/// per channel, one record per line, in event-time order) and the ground
/// truth (`event_id,person`, with event ids as the pipeline forms them).
/// Byte-identical output for the same events.
pub fn write_files(events: &[Generated], dir: &std::path::Path) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let mut files = std::collections::BTreeMap::new();
    for channel in kindred_model::Channel::ALL {
        let file = std::fs::File::create(dir.join(channel_file(channel)))?;
        files.insert(channel, std::io::BufWriter::new(file));
    }
    let mut truth = std::io::BufWriter::new(std::fs::File::create(dir.join(TRUTH_FILE))?);
    writeln!(truth, "event_id,person")?;
    for g in events {
        let line = match &g.event {
            RawEvent::Pos(e) => serde_json::to_string(e),
            RawEvent::Web(e) => serde_json::to_string(e),
            RawEvent::Social(e) => serde_json::to_string(e),
        }
        .map_err(std::io::Error::other)?;
        let channel = g.event.channel();
        if let Some(w) = files.get_mut(&channel) {
            writeln!(w, "{line}")?;
        }
        writeln!(
            truth,
            "{}:{},{}",
            channel.as_str(),
            g.event.source_id().trim(),
            g.person
        )?;
    }
    for (_, mut w) in files {
        w.flush()?;
    }
    truth.flush()
}

/// Reads a ground-truth file written by [`write_files`]: event id -> person.
pub fn read_truth(
    path: &std::path::Path,
) -> std::io::Result<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = std::collections::BTreeMap::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let (event, person) = line.rsplit_once(',').ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}:{}: expected `event_id,person`", path.display(), n + 1),
            )
        })?;
        out.insert(event.to_string(), person.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn files_are_deterministic_and_truth_reads_back() {
        let events = generate(&GenOptions {
            people: 25,
            ..GenOptions::default()
        });
        let (a, b) = (tempfile_dir("a"), tempfile_dir("b"));
        write_files(&events, &a).expect("write");
        write_files(&events, &b).expect("write");
        for name in ["pos.jsonl", "web.jsonl", "social.jsonl", TRUTH_FILE] {
            let (x, y) = (
                std::fs::read(a.join(name)).expect("read"),
                std::fs::read(b.join(name)).expect("read"),
            );
            assert_eq!(x, y, "{name} is byte-identical");
        }
        let truth = read_truth(&a.join(TRUTH_FILE)).expect("truth");
        assert_eq!(truth.len(), events.len());
        let _ = std::fs::remove_dir_all(a);
        let _ = std::fs::remove_dir_all(b);
    }

    fn tempfile_dir(tag: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("kindred-gen-test-{tag}-{}", std::process::id()))
    }
}
