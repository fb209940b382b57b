//! `WireCodec::decode(Framing::Json, ..)` reads most records on a fast path
//! (`json::Plain`: serde straight from the conformed JSON). Whatever it
//! accepts must be what the reference path (apache-avro resolving the JSON
//! against the schema) accepts, as the same record, and whatever it
//! refuses must be refused with the reference path's words. Both are
//! compared on every generated record and on mutations of a sample of them:
//! each field (nested ones and array items too) removed, set to values of
//! every JSON type and to producers' habits, and unknown fields added.

use std::fmt::Debug;

use kindred_gen::{generate, GenOptions};
use kindred_model::raw::RawEvent;
use kindred_model::{CanonicalEvent, ChangeType, GoldenRecord, ProfileChange};
use kindred_normalize::{normalize, NormalizeOptions};
use kindred_schema::{DecodeError, Framing, SchemaKind, WireCodec};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

fn codec() -> WireCodec {
    WireCodec::with_default_ids().expect("codec")
}

/// Both paths on `bytes`; panics where they differ. Returns whether the
/// record was accepted.
fn same_on_both_paths<T>(codec: &WireCodec, kind: SchemaKind, bytes: &[u8]) -> bool
where
    T: DeserializeOwned + PartialEq + Debug,
{
    let fast: Result<T, DecodeError> = codec.decode(Framing::Json, kind, bytes);
    let reference: Result<T, DecodeError> = codec.decode_json_reference(kind, bytes);
    match (fast, reference) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "{kind}: {}", String::from_utf8_lossy(bytes));
            true
        }
        (Err(a), Err(b)) => {
            assert_eq!(
                a.to_string(),
                b.to_string(),
                "{kind}: {}",
                String::from_utf8_lossy(bytes)
            );
            false
        }
        (a, b) => panic!(
            "{kind}: fast {a:?}, reference {b:?}: {}",
            String::from_utf8_lossy(bytes)
        ),
    }
}

/// Values a field is set to: every JSON type, numbers at an int's edges,
/// and the producer habits `json::conform` reads (whole floats, numeric
/// strings, RFC 3339 times, boolean strings, Avro's union wrappers).
fn replacements() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!("x"),
        json!(""),
        json!(0),
        json!(7),
        json!(-1),
        json!(2_147_483_648_i64),
        json!(4_294_967_298_i64),
        json!(u64::MAX),
        json!(9.5),
        json!(2.0),
        json!("12"),
        json!("true"),
        json!("2025-02-26T04:33:24Z"),
        json!([]),
        json!(["x"]),
        json!([{}]),
        json!({}),
        json!({"string": "x"}),
        json!({"long": 5}),
        json!({"unknown": 1}),
    ]
}

/// Every path to a value inside `v` (object keys and array indexes).
fn paths(v: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                prefix.push(Step::Key(k.clone()));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                prefix.push(Step::Index(i));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// The parent of `path`'s last step, and that step.
fn parent<'a>(root: &'a mut Value, path: &'a [Step]) -> Option<(&'a mut Value, &'a Step)> {
    let (last, init) = path.split_last()?;
    let mut v = root;
    for step in init {
        v = match step {
            Step::Key(k) => v.get_mut(k.as_str())?,
            Step::Index(i) => v.get_mut(*i)?,
        };
    }
    Some((v, last))
}

/// Mutations of `record`: each path removed and replaced by each value,
/// and an unknown field added to each object.
fn mutations(record: &Value) -> Vec<Value> {
    let mut all = Vec::new();
    paths(record, &mut Vec::new(), &mut all);
    let mut out = Vec::new();
    for path in &all {
        let mut removed = record.clone();
        if let Some((p, step)) = parent(&mut removed, path) {
            match (p, step) {
                (Value::Object(m), Step::Key(k)) => {
                    m.remove(k);
                }
                (Value::Array(a), Step::Index(i)) => {
                    a.remove(*i);
                }
                _ => {}
            }
        }
        out.push(removed);
        for value in replacements() {
            let mut changed = record.clone();
            if let Some((p, step)) = parent(&mut changed, path) {
                match step {
                    Step::Key(k) => p[k.as_str()] = value,
                    Step::Index(i) => p[*i] = value,
                }
            }
            out.push(changed);
        }
        // An unknown field in the object at `path`; one past a long too
        // (apache-avro's `to_value` refused it even in a field the schema
        // lacks, which resolution would drop: both paths drop it first).
        for unknown in [json!({"a": 1}), json!([{"b": u64::MAX}])] {
            let mut extra = record.clone();
            if let Some((p, step)) = parent(&mut extra, path) {
                let target = match step {
                    Step::Key(k) => p.get_mut(k.as_str()),
                    Step::Index(i) => p.get_mut(*i),
                };
                if let Some(Value::Object(m)) = target {
                    m.insert("zz_not_in_the_schema".into(), unknown);
                }
            }
            out.push(extra);
        }
    }
    for unknown in [
        json!(1),
        json!(u64::MAX),
        json!({"a": [1, {"b": u64::MAX}]}),
    ] {
        let mut top = record.clone();
        if let Value::Object(m) = &mut top {
            m.insert("zz_not_in_the_schema".into(), unknown);
        }
        out.push(top);
    }
    out
}

/// Runs the mutations of each of `records` through both paths; returns
/// (accepted, refused).
fn compare_mutations<T>(codec: &WireCodec, kind: SchemaKind, records: &[T]) -> (usize, usize)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let (mut accepted, mut refused) = (0, 0);
    // Not JSON at all, as a message may be.
    for bytes in [&b""[..], b" ", b"{", b"null", b"[]", b"\xEF\xBB\xBF"] {
        assert!(!same_on_both_paths::<T>(codec, kind, bytes));
    }
    for record in records {
        let value = serde_json::to_value(record).expect("to json");
        for m in mutations(&value) {
            let bytes = serde_json::to_vec(&m).expect("bytes");
            if same_on_both_paths::<T>(codec, kind, &bytes) {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
    }
    (accepted, refused)
}

fn generated() -> Vec<RawEvent> {
    generate(&GenOptions {
        people: 1_500,
        seed: 11,
        ..GenOptions::default()
    })
    .into_iter()
    .map(|g| g.event)
    .collect()
}

#[test]
fn every_generated_record_reads_the_same_on_both_paths() {
    let codec = codec();
    let mut counts = [0usize; 3];
    for event in generated() {
        let (accepted, i) = match &event {
            RawEvent::Pos(e) => (
                same_on_both_paths::<kindred_model::raw::PosTransaction>(
                    &codec,
                    SchemaKind::PosTransaction,
                    &serde_json::to_vec(e).expect("json"),
                ),
                0,
            ),
            RawEvent::Web(e) => (
                same_on_both_paths::<kindred_model::raw::WebEvent>(
                    &codec,
                    SchemaKind::WebEvent,
                    &serde_json::to_vec(e).expect("json"),
                ),
                1,
            ),
            RawEvent::Social(e) => (
                same_on_both_paths::<kindred_model::raw::SocialInteraction>(
                    &codec,
                    SchemaKind::SocialInteraction,
                    &serde_json::to_vec(e).expect("json"),
                ),
                2,
            ),
        };
        assert!(accepted, "a generated record is valid: {event:?}");
        counts[i] += 1;
    }
    assert!(counts.iter().all(|&n| n > 100), "{counts:?}");
}

/// The richest records of a kind first (most JSON paths), a few of them.
fn richest<T: Serialize + Clone>(records: impl Iterator<Item = T>, n: usize) -> Vec<T> {
    let mut v: Vec<(usize, T)> = records
        .map(|r| {
            let size = serde_json::to_string(&r).map(|s| s.len()).unwrap_or(0);
            (size, r)
        })
        .collect();
    v.sort_by_key(|r| std::cmp::Reverse(r.0));
    v.into_iter().take(n).map(|(_, r)| r).collect()
}

#[test]
fn mutated_records_read_the_same_on_both_paths() {
    let codec = codec();
    let events = generated();
    let pos = richest(
        events.iter().filter_map(|e| match e {
            RawEvent::Pos(p) => Some(p.clone()),
            _ => None,
        }),
        4,
    );
    let web = richest(
        events.iter().filter_map(|e| match e {
            RawEvent::Web(w) => Some(w.clone()),
            _ => None,
        }),
        4,
    );
    let social = richest(
        events.iter().filter_map(|e| match e {
            RawEvent::Social(s) => Some(s.clone()),
            _ => None,
        }),
        4,
    );
    let canonical: Vec<CanonicalEvent> = richest(
        events
            .iter()
            .filter_map(|e| normalize(e, &NormalizeOptions::default()).ok()),
        3,
    );
    let changes: Vec<ProfileChange> = canonical
        .iter()
        .map(|e| ProfileChange {
            profile_id: "kp-1".into(),
            change_type: ChangeType::Created,
            version: 1,
            cause_event_id: e.event_id.clone(),
            absorbed_ids: vec!["kp-2".into()],
            superseded_by: None,
            changed_fields: vec!["event_count".into()],
            evidence: None,
            split_into: vec![],
            moved_event_ids: vec![e.event_id.clone()],
            rfm: None,
            record: Some(GoldenRecord::new("kp-1".into(), e)),
        })
        .collect();
    let results = [
        compare_mutations(&codec, SchemaKind::PosTransaction, &pos),
        compare_mutations(&codec, SchemaKind::WebEvent, &web),
        compare_mutations(&codec, SchemaKind::SocialInteraction, &social),
        compare_mutations(&codec, SchemaKind::CanonicalEvent, &canonical),
        compare_mutations(&codec, SchemaKind::ProfileChange, &changes),
    ];
    // The mutations reach both outcomes on every schema: a comparison of
    // only refusals (or only acceptances) would prove little.
    for (kind, (accepted, refused)) in SchemaKind::ALL.iter().zip(results) {
        assert!(
            accepted > 50 && refused > 50,
            "{kind}: {accepted} accepted, {refused} refused"
        );
    }
}

/// A field the schema lacks holding an integer past a long (a Go
/// producer's uint64 span id, half of whose values pass i64::MAX) made
/// apache-avro's `to_value` refuse the whole record before resolution
/// could drop the field: every such event was dead-lettered as
/// `invalid_json`, and replaying it failed the same way.
#[test]
fn an_unknown_field_past_a_long_does_not_refuse_the_record() {
    let codec = codec();
    let bytes = br#"{"event_id":"w1","event_type":"login","event_time":1740544404000,"user_id":"u1","span_id":18446744073709551615,"trace":{"ids":[18446744073709551615]}}"#;
    let web: kindred_model::raw::WebEvent = codec
        .decode(Framing::Json, SchemaKind::WebEvent, bytes)
        .expect("the unknown fields are dropped");
    assert_eq!(web.user_id.as_deref(), Some("u1"));
    assert!(same_on_both_paths::<kindred_model::raw::WebEvent>(
        &codec,
        SchemaKind::WebEvent,
        bytes
    ));
}
