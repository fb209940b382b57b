//! A seeded, deterministic generator of multi-channel retail events with
//! ground truth: every generated event records which synthetic customer it
//! belongs to, so resolution accuracy can be measured.
//!
//! The customers (Chinese and international, in a configurable mix) have
//! some of: member cards, mobiles and a home landline, personal and work
//! emails, accounts on several social platforms, a web-shop account and
//! browsers, a name, a birthday, an address. How often they buy and on
//! which channels follows a heavy-tailed distribution: most customers are
//! seen once or twice, a few dozens of times. Each channel event carries
//! the subset of identifiers that channel really sees, so some customers
//! can never be linked across channels.
//!
//! On top of that comes the mess real data has, each kind with its own rate
//! ([`MessRates`]): phone, email, name and id format variants, typos,
//! missing fields, households, changes of phone and email, namesakes, junk
//! identifiers typed by cashiers, duplicate deliveries, late events.
//!
//! The same options give identical events and byte-identical files. Mess
//! decisions are coupled across rates: raising one rate adds mess of that
//! kind and leaves the customers, their events and the other kinds alone.
//!
//! [`generate_with_stats`] also returns a [`GenStats`] summary (printable);
//! [`write_files`] writes JSON lines per channel and `truth.csv`, and
//! [`write_manifest`] the options and summary as `gen.json`.

mod country;
mod dice;
mod email;
mod events;
mod names;
mod options;
mod people;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use kindred_model::raw::RawEvent;
use kindred_model::Channel;
use serde::Serialize;

use crate::dice::{key, kind, normal, Coins};
use crate::events::{Meta, Tally};
use crate::people::{World, DAY_MS};

pub use crate::options::{ActivityOptions, ChannelWeights, GenOptions, IntlMix, MessRates};

/// One delivered event and the customer it truly belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The true customer, `0..people`.
    pub person: u32,
    pub event: RawEvent,
}

/// Generates the events of `opts.people` customers, in arrival order
/// (event-time order, but for late events and duplicate deliveries).
/// Deterministic for the same options.
pub fn generate(opts: &GenOptions) -> Vec<Generated> {
    generate_with_stats(opts).0
}

/// [`generate`], and a summary of what was generated.
pub fn generate_with_stats(opts: &GenOptions) -> (Vec<Generated>, GenStats) {
    let opts = &opts.sanitized();
    let mess = opts.mess.clone();
    let world = people::build(opts, &mess);
    let coins = Coins::new(opts.seed);
    // Duplicate deliveries are decided up front, so the output is allocated once.
    let mut total = 0;
    let mut duplicates = 0;
    for (i, p) in world.people.iter().enumerate() {
        total += p.times.len();
        duplicates += (0..p.times.len())
            .filter(|k| {
                coins.hit(
                    mess.duplicate_delivery,
                    kind::DUPLICATE,
                    i as u64,
                    *k as u64,
                )
            })
            .count();
    }
    let mut tally = Tally::default();
    let mut out = Vec::with_capacity(total + duplicates);
    let mut meta = Vec::with_capacity(total);
    for idx in 0..world.people.len() {
        events::person_events(
            &world, idx as u32, opts.seed, &mess, &mut tally, &mut out, &mut meta,
        );
    }
    // Event-time order: source ids follow it, arrivals are reckoned from it.
    let mut order: Vec<u32> = (0..out.len() as u32).collect();
    order.sort_unstable_by_key(|i| {
        let m = &meta[*i as usize];
        (m.time, m.person, m.k)
    });
    assign_source_ids(&mut out, &meta, &order, &world, opts.seed);
    let late = deliver(&mut out, &meta, &order, opts.seed, &mess);
    let stats = GenStats::new(&world, &out, duplicates as u64, late, tally);
    (out, stats)
}

/// Reorders `items` in place so that `items[i]` becomes the old
/// `items[order[i]]` (`order` is a permutation).
fn permute<T>(items: &mut [T], mut order: Vec<u32>) {
    for start in 0..order.len() {
        let mut at = start;
        // Follow the cycle through `start`, marking each visited slot.
        while order[at] as usize != start {
            let next = order[at] as usize;
            items.swap(at, next);
            order[at] = at as u32;
            at = next;
        }
        order[at] = at as u32;
    }
}

/// Source ids follow event time, as source systems number them: POS
/// `store-terminal-date-seq`, web UUIDs, social message ids; order ids per day.
fn assign_source_ids(
    events: &mut [Generated],
    meta: &[Meta],
    order: &[u32],
    world: &World,
    seed: u64,
) {
    let mut till_seq: HashMap<(u8, u16, u8, u32), u32> = HashMap::new();
    let mut order_seq: HashMap<(&'static str, u32), u32> = HashMap::new();
    let mut next = |prefix: &'static str, date: u32| {
        let n = order_seq.entry((prefix, date)).or_insert(0);
        *n += 1;
        *n
    };
    for (i, at) in order.iter().enumerate() {
        let (g, m) = (&mut events[*at as usize], &meta[*at as usize]);
        let h = key(&[seed, kind::SOURCE_ID, i as u64]);
        let h2 = key(&[seed, kind::SOURCE_ID, i as u64, 1]);
        match &mut g.event {
            RawEvent::Pos(e) => {
                let (country, store, terminal) = m.till.unwrap_or((country::Country::Cn, 0, 1));
                let date = yymmdd(m.time + country.utc_offset_hours() * 3_600_000);
                let store_id = world
                    .store(country, store)
                    .map_or_else(|| e.store_id.clone(), |s| s.id.clone());
                let seq = till_seq
                    .entry((country as u8, store, terminal, date))
                    .or_insert(0);
                *seq += 1;
                e.transaction_id = format!("{store_id}-{terminal:02}-{date:06}-{seq:04}");
                e.receipt_no = format!("{terminal:02}{seq:05}");
            }
            RawEvent::Web(e) => {
                e.event_id = format!(
                    "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                    h >> 32,
                    (h >> 16) & 0xffff,
                    h & 0xfff,
                    0x8000 | (h2 >> 48) & 0x3fff,
                    h2 & 0xffff_ffff_ffff
                );
                if let Some(o) = &mut e.order {
                    let date = yymmdd(m.time);
                    o.order_id = format!("WO{date:06}{:06}", next("WO", date));
                }
            }
            RawEvent::Social(e) => {
                e.event_id = format!(
                    "{}",
                    1_000_000_000_000_000_000 + h % 9_000_000_000_000_000_000
                );
                if let Some(o) = &mut e.order {
                    let date = yymmdd(m.time);
                    o.order_id = format!("MP{date:06}{:06}", next("MP", date));
                }
            }
        }
    }
}

/// Puts `events` in arrival order: event-time order (`order`), but late
/// events arrive minutes to days after their time, and duplicates again
/// some time after the first delivery. Returns the number of late events.
fn deliver(
    events: &mut Vec<Generated>,
    meta: &[Meta],
    order: &[u32],
    seed: u64,
    mess: &MessRates,
) -> u64 {
    let coins = Coins::new(seed);
    // (arrival, rank in event-time order, index in `events`)
    let mut arrivals: Vec<(i64, u32, u32)> = Vec::with_capacity(events.capacity());
    let mut late = 0;
    for (rank, i) in order.iter().enumerate() {
        let (i, rank) = (*i as usize, rank as u32);
        let m = &meta[i];
        let (a, b) = (u64::from(m.person), u64::from(m.k));
        let mut arrival = m.time;
        if coins.hit(mess.late, kind::LATE, a, b) {
            late += 1;
            let mut dice = coins.dice(kind::LATE, a, b);
            // Median three hours, often a day or more (a till offline overnight).
            let delay = (3.0 * 3_600_000.0 * (1.6 * normal(&mut dice)).exp())
                .clamp(300_000.0, 10.0 * DAY_MS as f64);
            arrival += delay as i64;
        }
        arrivals.push((arrival, rank, i as u32));
        if coins.hit(mess.duplicate_delivery, kind::DUPLICATE, a, b) {
            let mut dice = coins.dice(kind::DUPLICATE, a, b);
            let delay = (15.0 * 60_000.0 * (2.0 * normal(&mut dice)).exp())
                .clamp(1_000.0, 3.0 * DAY_MS as f64);
            let copy = events[i].clone();
            arrivals.push((arrival + delay as i64, rank, events.len() as u32));
            events.push(copy);
        }
    }
    // Ties: event-time order, the original before its copy.
    arrivals.sort_unstable();
    permute(events, arrivals.into_iter().map(|(_, _, i)| i).collect());
    late
}

/// `yymmdd` of a time (UTC, or local when an offset was added).
fn yymmdd(ms: i64) -> u32 {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    (y.rem_euclid(100) as u32) * 10_000 + m * 100 + d
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// What a generation produced: sizes, activity, and how much of each kind
/// of mess ended up in the data.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GenStats {
    pub people: u64,
    /// Distinct events (source ids).
    pub events: u64,
    /// Records in the stream: events plus duplicate deliveries.
    pub deliveries: u64,
    pub duplicates: u64,
    /// Events delivered minutes to days after their event time.
    pub late: u64,
    /// Distinct events per channel.
    pub by_channel: BTreeMap<String, u64>,
    /// Customers per country (ISO code).
    pub by_country: BTreeMap<String, u64>,
    /// Customers seen on 1, 2 and 3 channels.
    pub people_by_channel_count: BTreeMap<u8, u64>,
    pub activity: ActivityStats,
    pub households: u64,
    pub household_members: u64,
    pub phone_changes: u64,
    pub email_changes: u64,
    /// Customers whose exact full name another customer also has.
    pub people_sharing_a_name: u64,
    /// Of those, customers given another's name by the `namesake` rate.
    pub forced_namesakes: u64,
    /// Events where a junk identifier replaced the customer's.
    pub junk_events: u64,
    /// Each junk value used, with how often and by how many customers.
    pub junk_values: Vec<JunkUse>,
    pub phone_variants: u64,
    pub email_variants: u64,
    pub name_variants: u64,
    pub id_variants: u64,
    pub birthday_variants: u64,
    pub name_typos: u64,
    pub email_typos: u64,
    /// Web accounts opened with a mistyped email.
    pub account_email_typos: u64,
    pub fields_missing: u64,
    /// Sales where a customer gave the mobile of the person they live with.
    pub partner_phone_uses: u64,
}

/// Events per customer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ActivityStats {
    pub mean: f64,
    pub median: u64,
    pub p99: u64,
    pub max: u64,
    /// Share of all events held by the most active 1% of customers.
    pub top_1pct_share: f64,
}

/// One junk value and its spread.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JunkUse {
    /// `phone`, `member_card` or `email`.
    pub field: String,
    pub value: String,
    pub events: u64,
    pub people: u64,
}

impl GenStats {
    fn new(world: &World, out: &[Generated], duplicates: u64, late: u64, tally: Tally) -> Self {
        let mut s = GenStats {
            people: world.people.len() as u64,
            deliveries: out.len() as u64,
            duplicates,
            late,
            ..GenStats::default()
        };
        for p in &world.people {
            *s.by_country
                .entry(p.country.code().to_string())
                .or_default() += 1;
            let channels: BTreeSet<_> = p.channels.iter().collect();
            *s.people_by_channel_count
                .entry(channels.len() as u8)
                .or_default() += 1;
            s.phone_changes += u64::from(p.phone_change.is_some());
            s.email_changes += u64::from(p.email_change.is_some());
            s.account_email_typos += u64::from(p.account_email_typo.is_some());
            s.forced_namesakes += u64::from(p.namesake_of.is_some());
        }
        let mut names: HashMap<String, u64> = HashMap::new();
        for p in &world.people {
            *names.entry(p.full_name()).or_default() += 1;
        }
        s.people_sharing_a_name = names.values().filter(|n| **n > 1).sum();
        s.households = world.households.len() as u64;
        s.household_members = world
            .households
            .iter()
            .map(|h| h.members.len() as u64)
            .sum();
        let mut counts: Vec<u64> = world.people.iter().map(|p| p.times.len() as u64).collect();
        s.events = counts.iter().sum();
        for p in &world.people {
            for c in &p.channels {
                let name = match c {
                    people::Ch::Pos => Channel::Pos,
                    people::Ch::Web => Channel::Web,
                    people::Ch::Social => Channel::Social,
                };
                *s.by_channel.entry(name.as_str().to_string()).or_default() += 1;
            }
        }
        counts.sort_unstable();
        if let (Some(max), false) = (counts.last(), counts.is_empty()) {
            let n = counts.len();
            let top = n.div_ceil(100);
            let top_sum: u64 = counts[n - top..].iter().sum();
            s.activity = ActivityStats {
                mean: s.events as f64 / n as f64,
                median: counts[n / 2],
                p99: counts[(n * 99 / 100).min(n - 1)],
                max: *max,
                top_1pct_share: top_sum as f64 / s.events.max(1) as f64,
            };
        }
        s.junk_events = tally.junk_events;
        let mut junk: Vec<JunkUse> = tally
            .junk
            .into_iter()
            .map(|((field, value), (events, people))| JunkUse {
                field: field.to_string(),
                value,
                events,
                people: people.len() as u64,
            })
            .collect();
        junk.sort_by(|a, b| {
            b.events
                .cmp(&a.events)
                .then_with(|| (&a.field, &a.value).cmp(&(&b.field, &b.value)))
        });
        s.junk_values = junk;
        s.phone_variants = tally.phone_variants;
        s.email_variants = tally.email_variants;
        s.name_variants = tally.name_variants;
        s.id_variants = tally.id_variants;
        s.birthday_variants = tally.birthday_variants;
        s.name_typos = tally.name_typos;
        s.email_typos = tally.email_typos;
        s.fields_missing = tally.fields_missing;
        s.partner_phone_uses = tally.partner_phone;
        s
    }
}

impl fmt::Display for GenStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |m: &BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            f,
            "  people              {} ({})",
            self.people,
            join(&self.by_country)
        )?;
        writeln!(
            f,
            "  events              {} ({}); {} records with {} duplicate deliveries, {} late",
            self.events,
            join(&self.by_channel),
            self.deliveries,
            self.duplicates,
            self.late
        )?;
        let a = &self.activity;
        writeln!(
            f,
            "  events per person   mean {:.2}, median {}, p99 {}, max {}; top 1% hold {:.1}%",
            a.mean,
            a.median,
            a.p99,
            a.max,
            100.0 * a.top_1pct_share
        )?;
        let by_n: Vec<String> = self
            .people_by_channel_count
            .iter()
            .map(|(n, c)| format!("{n}: {c}"))
            .collect();
        writeln!(f, "  channels per person {}", by_n.join(", "))?;
        writeln!(
            f,
            "  households          {} ({} people); phone changes {}, email changes {}",
            self.households, self.household_members, self.phone_changes, self.email_changes
        )?;
        writeln!(
            f,
            "  shared names        {} people ({} forced namesakes)",
            self.people_sharing_a_name, self.forced_namesakes
        )?;
        writeln!(
            f,
            "  format variants     phone {}, email {}, name/address {}, id {}, birthday {}",
            self.phone_variants,
            self.email_variants,
            self.name_variants,
            self.id_variants,
            self.birthday_variants
        )?;
        writeln!(
            f,
            "  typos               name {}, email {} (+{} accounts opened with a typo)",
            self.name_typos, self.email_typos, self.account_email_typos
        )?;
        writeln!(
            f,
            "  missing fields      {}; partner's phone given {} times",
            self.fields_missing, self.partner_phone_uses
        )?;
        let top: Vec<String> = self
            .junk_values
            .iter()
            .take(5)
            .map(|j| format!("{} {:?} ({} people)", j.field, j.value, j.people))
            .collect();
        writeln!(
            f,
            "  junk identifiers    {} events, {} values; most used: {}",
            self.junk_events,
            self.junk_values.len(),
            top.join(", ")
        )
    }
}

/// File name of the ground truth [`write_files`] writes in its directory.
pub const TRUTH_FILE: &str = "truth.csv";

/// The first line of a ground truth file: what [`read_truth`] expects.
pub const TRUTH_HEADER: &str = "event_id,person";

/// Writes a ground truth (`event_id,person`, a line per event) to `path`,
/// as [`read_truth`] and `kindred eval --truth` read it: RFC 4180 CSV, so
/// an event id holding a comma or a quote is quoted, as spreadsheets and
/// CSV libraries read it.
pub fn write_truth<'a>(
    path: &std::path::Path,
    truth: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> std::io::Result<()> {
    let mut out = csv::Writer::from_path(path)?;
    out.write_record(TRUTH_HEADER.split(','))?;
    for (event, person) in truth {
        out.write_record([event, person])?;
    }
    out.flush()
}

/// File name of the generation's options and summary ([`write_manifest`]).
pub const MANIFEST_FILE: &str = "gen.json";

/// The JSON-lines file of a channel's raw records.
pub fn channel_file(channel: Channel) -> String {
    format!("{}.jsonl", channel.as_str())
}

/// Writes generated events as a channel system's JSON would look (one file
/// per channel, one record per line, in arrival order, duplicate deliveries
/// included) and the ground truth (`event_id,person`, once per distinct
/// event id, with event ids as the pipeline forms them: `channel:source_id`).
/// Byte-identical output for the same events.
pub fn write_files(events: &[Generated], dir: &std::path::Path) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let mut files = BTreeMap::new();
    for channel in Channel::ALL {
        let file = std::fs::File::create(dir.join(channel_file(channel)))?;
        files.insert(channel, std::io::BufWriter::new(file));
    }
    let mut truth: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
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
        let id = format!("{}:{}", channel.as_str(), g.event.source_id().trim());
        if seen.insert(id.clone()) {
            truth.push((id, g.person.to_string()));
        }
    }
    for (_, mut w) in files {
        w.flush()?;
    }
    write_truth(
        &dir.join(TRUTH_FILE),
        truth.iter().map(|(e, p)| (e.as_str(), p.as_str())),
    )
}

/// Writes the options and the summary of a generation as JSON, so that a
/// data set says how to make it again.
pub fn write_manifest(
    dir: &std::path::Path,
    opts: &GenOptions,
    stats: &GenStats,
) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct Manifest<'a> {
        generator: &'static str,
        options: &'a GenOptions,
        stats: &'a GenStats,
    }
    std::fs::create_dir_all(dir)?;
    let text = serde_json::to_string_pretty(&Manifest {
        generator: concat!("kindred-gen ", env!("CARGO_PKG_VERSION")),
        options: opts,
        stats,
    })
    .map_err(std::io::Error::other)?;
    std::fs::write(dir.join(MANIFEST_FILE), text + "\n")
}

/// Reads a ground-truth file written by [`write_files`], or by other
/// tools in the same form: event id -> person. CSV under the header
/// `event_id,person`: quoted fields, a spreadsheet's byte-order mark,
/// CRLF line ends and blank lines are read as CSV reads them; an unquoted
/// event id may hold commas (the person is after the last one).
pub fn read_truth(
    path: &std::path::Path,
) -> std::io::Result<std::collections::BTreeMap<String, String>> {
    let bad = |line: u64, what: String| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}:{line}: {what}", path.display()),
        )
    };
    // Opened here, so that a missing file keeps its error kind (NotFound).
    let file = std::fs::File::open(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::new(file));
    let mut records = reader.records();
    let header = "expected the header `event_id,person`";
    match records.next() {
        Some(Ok(h)) if h.iter().eq(TRUTH_HEADER.split(',')) => {}
        Some(Ok(h)) => return Err(bad(h.position().map_or(1, |p| p.line()), header.into())),
        Some(Err(e)) => return Err(e.into()),
        None => return Err(bad(1, format!("empty file ({header})"))),
    }
    let mut out = std::collections::BTreeMap::new();
    for record in records {
        let record = record?;
        let line = record.position().map_or(0, |p| p.line());
        let fields: Vec<&str> = record.iter().collect();
        let (event, person) = match fields.split_last() {
            Some((person, event)) if !event.is_empty() => (event.join(","), *person),
            _ => (String::new(), ""),
        };
        if event.is_empty() || person.is_empty() {
            return Err(bad(
                line,
                "expected `event_id,person`, both non-empty".into(),
            ));
        }
        if let Some(before) = out.insert(event.clone(), person.to_string()) {
            if before != person {
                return Err(bad(
                    line,
                    format!("event {event} is given to two persons ({before} and {person})"),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
