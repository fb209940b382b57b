//! Throughput of the pipeline's CPU stages, without a broker:
//! - `decode/pos/{apache_avro,serde_avro_fast}`: Avro decode alone, both engines;
//! - `ingest/<channel>`: Confluent Avro decode + normalize, per event;
//!   `ingest_json/<channel>`: the same records as JSON messages;
//! - `resolve/apply_1000`: the resolver applying a batch of 1000 canonical
//!   events (new and returning customers) to a RocksDB store in a temp dir.
//!
//! Run: `cargo bench --bench pipeline` (figures go in BENCHMARKS.md).

use std::sync::Arc;

/// The allocator the `kindred` binary runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use kindred_gen::{generate, GenOptions};
use kindred_model::{CanonicalEvent, Channel};
use kindred_normalize::{normalize, NormalizeOptions};
use kindred_pipeline::IngestStage;
use kindred_resolver::{Resolver, Store};
use kindred_schema::{Framing, SchemaKind, WireCodec};

fn ingest(c: &mut Criterion) {
    let codec = Arc::new(WireCodec::with_default_ids().expect("codec"));
    let events = generate(&GenOptions {
        people: 2_000,
        ..GenOptions::default()
    });
    let pos: Vec<Vec<u8>> = events
        .iter()
        .filter_map(|g| match &g.event {
            kindred_model::raw::RawEvent::Pos(e) => {
                codec.encode(SchemaKind::PosTransaction, e).ok()
            }
            _ => None,
        })
        .collect();
    let mut group = c.benchmark_group("decode/pos");
    group.throughput(Throughput::Elements(pos.len() as u64));
    group.bench_function("apache_avro", |b| {
        b.iter(|| {
            for m in &pos {
                let r: kindred_model::raw::PosTransaction = codec
                    .decode_reference(SchemaKind::PosTransaction, m)
                    .expect("decodes");
                std::hint::black_box(r);
            }
        })
    });
    group.bench_function("serde_avro_fast", |b| {
        b.iter(|| {
            for m in &pos {
                let r: kindred_model::raw::PosTransaction = codec
                    .decode(Framing::Confluent, SchemaKind::PosTransaction, m)
                    .expect("decodes");
                std::hint::black_box(r);
            }
        })
    });
    group.finish();

    // Encoding: a raw POS record (the generator and load tool) and a profile
    // change with its full golden record (the resolver, once per change).
    let sample: Vec<kindred_model::raw::PosTransaction> = events
        .iter()
        .filter_map(|g| match &g.event {
            kindred_model::raw::RawEvent::Pos(e) => Some(e.clone()),
            _ => None,
        })
        .collect();
    let change = kindred_model::ProfileChange {
        profile_id: "kp-000000000001".into(),
        change_type: kindred_model::ChangeType::Updated,
        version: 3,
        cause_event_id: "pos:T000000001".into(),
        absorbed_ids: vec![],
        superseded_by: None,
        record: Some(kindred_model::GoldenRecord::new(
            "kp-000000000001".into(),
            &customer_event(1, 1),
        )),
        changed_fields: vec!["event_count".into(), "last_seen_ms".into()],
        evidence: None,
        split_into: vec![],
        moved_event_ids: vec![],
        rfm: None,
    };
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(sample.len() as u64));
    group.bench_function("pos", |b| {
        b.iter(|| {
            for e in &sample {
                std::hint::black_box(
                    codec
                        .encode(SchemaKind::PosTransaction, e)
                        .expect("encodes"),
                );
            }
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("profile_change", |b| {
        b.iter(|| {
            std::hint::black_box(
                codec
                    .encode(SchemaKind::ProfileChange, &change)
                    .expect("encodes"),
            )
        })
    });
    group.finish();

    // The same records framed as Confluent Avro (`ingest/<channel>`) and
    // as plain JSON, one object per message (`ingest_json/<channel>`); and
    // as Avro with the phone memo forgotten before every message
    // (`ingest_cold/<channel>`): a production memo of 65,536 numbers has
    // mostly forgotten a customer back days later, while within one pass
    // over this sample every repeated number hits it.
    for (group_name, framing, cold) in [
        ("ingest", Framing::Confluent, false),
        ("ingest_json", Framing::Json, false),
        ("ingest_cold", Framing::Confluent, true),
    ] {
        let mut group = c.benchmark_group(group_name);
        for channel in Channel::ALL {
            let stage =
                IngestStage::new(channel, framing, codec.clone(), NormalizeOptions::default());
            let messages: Vec<Vec<u8>> = events
                .iter()
                .filter(|g| g.event.channel() == channel)
                .map(|g| kindred_pipeline::encode_raw_as(&codec, &g.event, framing))
                .collect::<Result<_, _>>()
                .expect("encode");
            group.throughput(Throughput::Elements(messages.len() as u64));
            group.bench_function(channel.as_str(), |b| {
                b.iter(|| {
                    // Each pass starts with no remembered phone parses: repeats
                    // within the sample (a customer's next visit) still hit.
                    kindred_normalize::clear_phone_memo();
                    for m in &messages {
                        if cold {
                            kindred_normalize::clear_phone_memo();
                        }
                        std::hint::black_box(stage.process(m).expect("decodes"));
                    }
                })
            });
        }
        group.finish();
    }
}

fn resolve(c: &mut Criterion) {
    let opts = NormalizeOptions::default();
    let events: Vec<CanonicalEvent> = generate(&GenOptions {
        people: 400,
        ..GenOptions::default()
    })
    .iter()
    .filter_map(|g| normalize(&g.event, &opts).ok())
    .take(1000)
    .collect();
    let mut group = c.benchmark_group("resolve");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.sample_size(20);
    group.bench_function("apply_1000_into_empty_store", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("temp dir");
                let resolver = Resolver::new(Store::open(dir.path()).expect("store"));
                (dir, resolver)
            },
            // Returned, so criterion drops the store (closing RocksDB and
            // deleting the directory) after the clock stops.
            |(dir, mut resolver)| {
                std::hint::black_box(resolver.apply(&events, &[]).expect("apply"));
                (dir, resolver)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// A canonical event for synthetic customer `person`, with its own email
/// and member card, as a returning customer's purchase would carry.
fn customer_event(person: u64, seq: u64) -> CanonicalEvent {
    use kindred_model::{Activity, Attributes, Identifier, IdentifierKind};
    CanonicalEvent {
        event_id: format!("pos:bench-{seq}"),
        channel: Channel::Pos,
        event_time_ms: 1_735_689_600_000 + seq as i64,
        identifiers: vec![
            Identifier::new(IdentifierKind::MemberId, format!("MAIN:M{person:09}")),
            Identifier::new(IdentifierKind::Email, format!("c{person}@mail.example.cn")),
        ],
        attributes: Attributes::default(),
        activity: Activity {
            event_type: "purchase".into(),
            points_earned: 10,
            ..Activity::default()
        },
        consents: vec![],
        dropped: vec![],
    }
}

/// How many of `n` to set up: all of them under `cargo bench` (which
/// passes `--bench`); a hundredth, at least 10, when `cargo test
/// --all-targets` runs each bench once to see that it works (a debug build
/// filling a store of a million profiles took minutes of every CI run and
/// measured nothing).
fn setup_size(n: u64) -> u64 {
    if std::env::args().any(|a| a == "--bench") {
        n
    } else {
        (n / 100).max(10)
    }
}

/// The resolver on a store that already holds 100,000 and 1,000,000
/// profiles: batches of 1,000 events, half from returning customers, half
/// from new ones. The new ones stay: every batch timed, warm-up included,
/// adds 500 profiles, so the store the figure is named after is where it
/// starts. How far it grew is printed at the end of each size's benches.
fn resolve_at_scale(c: &mut Criterion) {
    for (existing, label) in [(100_000u64, "100k"), (1_000_000, "1m")] {
        let existing = setup_size(existing);
        let dir = tempfile::tempdir().expect("temp dir");
        let mut resolver = Resolver::new(Store::open(dir.path()).expect("store"));
        let mut seq = 0u64;
        for chunk in (0..existing).collect::<Vec<_>>().chunks(1000) {
            let batch: Vec<_> = chunk
                .iter()
                .map(|p| {
                    seq += 1;
                    customer_event(*p, seq)
                })
                .collect();
            resolver.apply(&batch, &[]).expect("populate");
        }
        let mut next_new = existing;
        let mut group = c.benchmark_group("resolve");
        group.throughput(Throughput::Elements(1000));
        group.sample_size(30);
        group.bench_function(format!("apply_1000_with_{label}_profiles"), |b| {
            b.iter_batched(
                || {
                    (0..1000u64)
                        .map(|i| {
                            seq += 1;
                            let person = if i % 2 == 0 {
                                (seq * 7_919) % existing
                            } else {
                                next_new += 1;
                                next_new
                            };
                            customer_event(person, seq)
                        })
                        .collect::<Vec<_>>()
                },
                |batch| std::hint::black_box(resolver.apply(&batch, &[]).expect("apply")),
                BatchSize::LargeInput,
            )
        });
        // What the resolver service reads before each batch to tell an
        // event reusing another's id from a redelivery (one MultiGet of
        // the batch's event ids): its cost beside `apply`'s.
        group.bench_function(format!("conflict_check_1000_with_{label}_profiles"), |b| {
            b.iter_batched(
                || {
                    (0..1000u64)
                        .map(|i| {
                            seq += 1;
                            customer_event((seq * 7_919 + i) % existing, seq)
                        })
                        .collect::<Vec<_>>()
                },
                |batch| {
                    let refs: Vec<&CanonicalEvent> = batch.iter().collect();
                    std::hint::black_box(resolver.conflicting_duplicates(&refs).expect("check"))
                },
                BatchSize::LargeInput,
            )
        });
        group.finish();
        let ended = resolver.store().stats().expect("stats").profiles;
        eprintln!(
            "resolve/*_with_{label}_profiles: the store held {existing} profiles at the start and {ended} at the end (the new customers of every batch run stay)"
        );
    }
}

fn fields(c: &mut Criterion) {
    let opts = NormalizeOptions::default();
    let mut group = c.benchmark_group("normalize");
    group.bench_function("phone_cn_national", |b| {
        b.iter(|| kindred_normalize::normalize_phone(std::hint::black_box("139 1024 8876"), &opts))
    });
    group.bench_function("phone_e164", |b| {
        b.iter(|| kindred_normalize::normalize_phone(std::hint::black_box("+8613910248876"), &opts))
    });
    // The memo forgotten before each call: a full parse every time (with
    // the memo warm it timed a lookup, every call after the first).
    group.bench_function("phone_landline_full_parse", |b| {
        b.iter_batched(
            kindred_normalize::clear_phone_memo,
            |()| kindred_normalize::normalize_phone(std::hint::black_box("010-6552-9988"), &opts),
            BatchSize::PerIteration,
        )
    });
    // A number typed as before: what the memo gives a returning customer.
    group.bench_function("phone_landline_remembered", |b| {
        b.iter(|| kindred_normalize::normalize_phone(std::hint::black_box("010-6552-9988"), &opts))
    });
    // What linking asks of every phone: mobile or a household's landline.
    group.bench_function("phone_line_mobile", |b| {
        b.iter(|| kindred_normalize::phone_line(std::hint::black_box("+8613910248876")))
    });
    group.bench_function("phone_line_landline", |b| {
        b.iter(|| kindred_normalize::phone_line(std::hint::black_box("+861065529988")))
    });
    group.bench_function("email", |b| {
        b.iter(|| kindred_normalize::normalize_email(std::hint::black_box("Li.Wei@QQ.com"), true))
    });
    group.bench_function("name_cjk", |b| {
        b.iter(|| kindred_normalize::normalize_name(std::hint::black_box("李伟")))
    });
    group.bench_function("name_latin", |b| {
        b.iter(|| kindred_normalize::normalize_name(std::hint::black_box("maria sentosa")))
    });
    group.bench_function("member_card", |b| {
        b.iter(|| kindred_normalize::normalize_member_card(std::hint::black_box("M00012345")))
    });
    group.finish();
}

/// A web order of customer `person`: known by email only, with the name
/// typed at checkout.
fn web_order(person: u64, seq: u64) -> CanonicalEvent {
    let mut e = customer_event(person, seq);
    e.event_id = format!("web:bench-{seq}");
    e.channel = Channel::Web;
    e.identifiers
        .retain(|i| i.kind == kindred_model::IdentifierKind::Email);
    e.attributes.full_name = Some(format!("Customer {person:09}"));
    e
}

/// A web order whose typed name has a typo one time in three (`Custoner`).
fn web_order_with_typos(person: u64, seq: u64) -> CanonicalEvent {
    let mut e = web_order(person, seq);
    if seq % 3 == 0 {
        e.attributes.full_name = Some(format!("Custoner {person:09}"));
    }
    e
}

/// Loyal customers: 100 people who each already have 10 or 1,000 events
/// get one more each per batch: card holders at the till (`customers`),
/// web shoppers known by email who type their name on every order
/// (`web_customers`), and the same with a typo in one order of three
/// (`typing_customers`). The cost of an event should not grow with its
/// customer's history.
fn resolve_heavy_customers(c: &mut Criterion) {
    const CUSTOMERS: u64 = 100;
    let mut group = c.benchmark_group("resolve");
    group.throughput(Throughput::Elements(CUSTOMERS));
    group.sample_size(20);
    type Make = fn(u64, u64) -> CanonicalEvent;
    let kinds: [(&str, Make); 3] = [
        ("customers", customer_event),
        ("web_customers", web_order),
        ("typing_customers", web_order_with_typos),
    ];
    for (history, (label, make)) in [10u64, 1_000]
        .into_iter()
        .flat_map(|h| kinds.into_iter().map(move |k| (h, k)))
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut resolver = Resolver::new(Store::open(dir.path()).expect("store"));
        let mut seq = 0u64;
        let batch_of_all = |seq: &mut u64| {
            (0..CUSTOMERS)
                .map(|person| {
                    *seq += 1;
                    make(person, *seq)
                })
                .collect::<Vec<_>>()
        };
        for _ in 0..setup_size(history) {
            let batch = batch_of_all(&mut seq);
            resolver.apply(&batch, &[]).expect("populate");
        }
        group.bench_function(format!("apply_100_to_{label}_with_{history}_events"), |b| {
            b.iter_batched(
                || batch_of_all(&mut seq),
                |batch| std::hint::black_box(resolver.apply(&batch, &[]).expect("apply")),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    ingest,
    fields,
    resolve,
    resolve_at_scale,
    resolve_heavy_customers
);
criterion_main!(benches);
