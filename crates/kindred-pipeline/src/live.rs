//! Requests to the running resolver: review and split decisions (`kindred
//! review approve|reject --live`, `kindred split --live`) on the
//! decision-request topic, and the request/reply exchange `kindred forget`
//! shares with them.
//!
//! The resolver reads decision requests in order with the events (one
//! partition), carries each out with its offset in the decision's own
//! WriteBatch ([`kindred_resolver::Resolver::apply_request`]) and puts a
//! reply on the decision-outcome topic, through the outbox: so a reviewer
//! decides while the service runs, and each request is decided once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kindred_config::Config;
use kindred_kafka::{consumer, OutRecord, Producer};
use kindred_model::Channel;
use kindred_resolver::{DecisionAction, DecisionReply, DecisionRequest};

use crate::PipelineError;

/// Why a decision request cannot be carried out as sent (dead-lettered
/// with its reason; the payload is masked).
#[derive(Debug, thiserror::Error)]
pub enum RequestProblem {
    #[error("decision request is not valid JSON of the expected shape: {0}")]
    Json(String),
    /// (The request id is free text: it is not quoted.)
    #[error("decision request: {what}")]
    Incomplete { what: &'static str },
}

impl RequestProblem {
    /// The dead-letter reason.
    pub fn kind(&self) -> &'static str {
        match self {
            RequestProblem::Json(_) => "decision_malformed",
            RequestProblem::Incomplete { .. } => "decision_incomplete",
        }
    }
}

/// A decision request as the resolver reads it off the topic.
pub fn parse_request(payload: &[u8]) -> Result<DecisionRequest, RequestProblem> {
    let request: DecisionRequest =
        serde_json::from_slice(payload).map_err(|e| RequestProblem::Json(json_problem(&e)))?;
    let incomplete = |what| Err(RequestProblem::Incomplete { what });
    if request.request_id.trim().is_empty() {
        return incomplete("no request_id");
    }
    if request.actor.trim().is_empty() {
        return incomplete("no actor (who decided)");
    }
    if [&request.request_id, &request.actor]
        .iter()
        .any(|t| t.len() > MAX_FREE_TEXT_BYTES)
    {
        return incomplete("request_id or actor is longer than 256 bytes");
    }
    if let DecisionAction::Split {
        identifier_key: Some(key),
        ..
    } = &request.action
    {
        if key.len() > MAX_KEY_BYTES {
            return incomplete("identifier_key is longer than 1024 bytes");
        }
    }
    // Profile ids only: a refusal quotes them (in the reply and the log).
    match &request.action {
        DecisionAction::Review { a, b, .. } if !is_profile_id(a) || !is_profile_id(b) => {
            incomplete("a review names two profile ids (kp- and digits), a and b")
        }
        DecisionAction::Split {
            profile,
            identifier_key,
            source,
        } if !is_profile_id(profile) || identifier_key.is_some() == source.is_some() => {
            incomplete("a split names a profile id (kp- and digits) and exactly one of identifier_key or source")
        }
        _ => Ok(request),
    }
}

/// The longest request id, actor or requester a request may carry. They
/// are quoted in its reply or audit record (twice: key and value), which
/// must fit one Kafka record: a request made of a megabyte of id would
/// otherwise block the outbox behind it.
pub(crate) const MAX_FREE_TEXT_BYTES: usize = 256;

/// The longest identifier key a split may name: a keyed one is about 70
/// bytes; a plaintext store's is `kind:` and the value, which the
/// normalizer allows up to 256 bytes of namespace and id.
const MAX_KEY_BYTES: usize = 1024;

/// `kp-` and digits, as the resolver numbers profiles (at most 20 of
/// them: a u64).
pub(crate) fn is_profile_id(text: &str) -> bool {
    text.strip_prefix("kp-")
        .is_some_and(|n| !n.is_empty() && n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// What a decision request that could not be applied leaves on the
/// dead-letter topic instead of its bytes: its known fields, the split's
/// identifier key masked (in a plaintext store it is the raw value), and
/// nothing of fields it should not have (a key could be anything). Not a
/// JSON object: nothing.
pub fn masked_payload(payload: &[u8]) -> Vec<u8> {
    use serde_json::{Map, Value};
    let Ok(Value::Object(fields)) = serde_json::from_slice(payload) else {
        return Vec::new();
    };
    // A field is kept as sent only when it is of its own shape (a profile
    // id, a number, a flag, a channel); anything else (an identifier typed
    // where a profile id goes, say) is masked.
    let keep = |from: &Map<String, Value>, names: &[&str]| -> Map<String, Value> {
        names
            .iter()
            .filter_map(|n| {
                let v = from.get(*n)?;
                let shaped = match *n {
                    "a" | "b" | "profile" => v.as_str().is_some_and(is_profile_id),
                    "at_ms" => v.is_i64(),
                    "approve" => v.is_boolean(),
                    "source" => v.as_str().is_some_and(|s| {
                        s.len() <= 16 && s.bytes().all(|b| b.is_ascii_uppercase())
                    }),
                    // Free text of the caller's (an id, a reviewer's name).
                    _ => v.is_string(),
                };
                let v = if shaped {
                    v.clone()
                } else {
                    Value::String("****".into())
                };
                Some((n.to_string(), v))
            })
            .collect()
    };
    let mut out = keep(&fields, &["request_id", "actor", "at_ms"]);
    if let Some(Value::Object(action)) = fields.get("action") {
        let mut kept = Map::new();
        if let Some(Value::Object(review)) = action.get("review") {
            kept.insert(
                "review".into(),
                Value::Object(keep(review, &["a", "b", "approve"])),
            );
        }
        if let Some(Value::Object(split)) = action.get("split") {
            let mut s = keep(split, &["profile", "source"]);
            if let Some(key) = split.get("identifier_key") {
                let masked = match key.as_str() {
                    Some(k) => kindred_model::mask_value(kindred_model::IdentifierKind::Device, k),
                    None => "****".to_string(),
                };
                s.insert("identifier_key".into(), Value::String(masked));
            }
            kept.insert("split".into(), Value::Object(s));
        }
        out.insert("action".into(), Value::Object(kept));
    }
    Value::Object(out).to_string().into_bytes()
}

/// What was wrong with a request's JSON, without quoting any of it:
/// serde's messages can quote a value (or a key) sent, and a request may
/// carry an identifier.
fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Data => "a field is missing, unknown, or of the wrong type or value",
        Category::Syntax => "not JSON",
        Category::Eof => "cut short",
        Category::Io => "unreadable",
    };
    format!("{what} (line {} column {})", e.line(), e.column())
}

/// What `kindred review|split --live` asks for.
pub enum LiveDecision<'a> {
    Review {
        a: &'a str,
        b: &'a str,
        approve: bool,
    },
    Split {
        /// A profile id.
        profile: &'a str,
        /// `kind:value`, sent as its index key.
        identifier: Option<&'a str>,
        source: Option<Channel>,
    },
}

/// Sends a decision to the running resolver and, unless `wait` is zero,
/// waits for its reply. Profiles are named by id (`kp-...`): the resolver
/// numbers them, so an identifier would have to be looked up in a store
/// this command does not open. An identifier to split off travels as its
/// index key (a keyed hash with a keyring), never as its raw value.
pub async fn decide(
    config: &Config,
    decision: LiveDecision<'_>,
    actor: &str,
    wait: Duration,
    as_json: bool,
) -> Result<String, PipelineError> {
    let profile_id = |target: &str| {
        if target.starts_with("kp-") {
            Ok(target.to_string())
        } else {
            Err(PipelineError::Config(format!(
                "--live takes profile ids (kp-...), not {}: the store that maps identifiers to profiles is the running resolver's; take the ids from the review topic or the profile topic",
                if target.contains(':') {
                    "identifiers"
                } else {
                    "this"
                }
            )))
        }
    };
    let action = match decision {
        LiveDecision::Review { a, b, approve } => DecisionAction::Review {
            a: profile_id(a)?,
            b: profile_id(b)?,
            approve,
        },
        LiveDecision::Split {
            profile,
            identifier,
            source,
        } => DecisionAction::Split {
            profile: profile_id(profile)?,
            identifier_key: match identifier {
                Some(text) => {
                    let identifier = crate::admin::parse_identifier(config, text)?;
                    let keyring = crate::privacy::keyring(config)?;
                    Some(kindred_resolver::index_key(keyring.as_ref(), &identifier))
                }
                None => None,
            },
            source,
        },
    };
    let at_ms = crate::admin::now_ms();
    let request = DecisionRequest {
        request_id: format!("dr-{at_ms}-{}", std::process::id()),
        actor: actor.to_string(),
        at_ms,
        action,
    };
    let payload = serde_json::to_vec(&request)
        .map_err(|e| PipelineError::Input(format!("decision request: {e}")))?;
    // Refused here rather than by the resolver, whose refusal this command
    // would only see as a reply that never comes.
    parse_request(&payload).map_err(|e| PipelineError::Config(e.to_string()))?;
    let sent = format!(
        "decision request {} sent to {}",
        request.request_id, config.topics.decision_requests
    );
    let reply = send_and_await(
        config,
        &config.topics.decision_requests,
        &request.request_id,
        payload,
        &config.topics.decision_outcomes,
        wait,
    )
    .await?;
    let Some(reply) = reply else {
        // `--wait-secs 0`: sent, no reply waited for.
        return Ok(if as_json {
            serde_json::json!({
                "request_id": request.request_id,
                "topic": config.topics.decision_requests,
                "outcome": "sent",
            })
            .to_string()
        } else {
            sent
        });
    };
    if as_json {
        // A refusal is an error for the exit status, JSON or not; its
        // reply is the JSON the caller prints.
        return match reply.get("outcome").and_then(|o| o.as_str()) {
            Some("applied") => Ok(reply.to_string()),
            _ => Err(PipelineError::Refused(reply.to_string())),
        };
    }
    let reply: DecisionReply = serde_json::from_value(reply).map_err(|e| {
        PipelineError::Input(format!(
            "the reply to {} on {} is not a decision reply: {e}",
            request.request_id, config.topics.decision_outcomes
        ))
    })?;
    match reply.reason {
        Some(reason) => Err(PipelineError::Config(format!("{sent}; refused: {reason}"))),
        None => Ok(format!(
            "{sent}\ndecision {} ({}) by {actor}: -> {}\n{} change events published",
            reply.decision.unwrap_or_default(),
            reply.kind.unwrap_or_default(),
            reply.profiles.join(", "),
            reply.changes
        )),
    }
}

/// `kindred review list --live`: the review queue as the review topic holds
/// it (the last record of each pair; a tombstone, for a pair decided or
/// merged since, takes it out), without opening the store. Pairs in the
/// order they were first flagged.
pub async fn review_list(config: &Config, as_json: bool) -> Result<String, PipelineError> {
    let (settings, topic) = (
        crate::services::kafka_settings(config),
        config.topics.review.clone(),
    );
    let records = tokio::task::spawn_blocking(move || {
        consumer::read_to_end(&settings, &topic, Duration::from_secs(30))
    })
    .await
    .map_err(|e| PipelineError::Input(format!("reading {}: {e}", config.topics.review)))??;
    let mut order: Vec<Vec<u8>> = Vec::new();
    let mut latest: std::collections::HashMap<Vec<u8>, Vec<u8>> = std::collections::HashMap::new();
    for (_, key, payload) in records {
        let Some(key) = key else { continue };
        if !latest.contains_key(&key) {
            order.push(key.clone());
        }
        latest.insert(key, payload);
    }
    let items: Vec<serde_json::Value> = order
        .iter()
        .filter_map(|key| {
            let body: serde_json::Value = serde_json::from_slice(latest.get(key)?).ok()?;
            let fields = [
                "profile_a",
                "profile_b",
                "rule",
                "rule_version",
                "kinds",
                "reason",
            ];
            Some(serde_json::Value::Object(
                fields
                    .iter()
                    .map(|f| (f.to_string(), body[*f].clone()))
                    .collect(),
            ))
        })
        .collect();
    Ok(crate::admin::queue_report(items, as_json))
}

/// How long sending a request may take when the caller waits for no reply
/// (`--wait-secs 0`), and at least when it does: a broker that is up
/// answers well within it, TLS and SASL included.
const SEND_WITHOUT_WAIT: Duration = Duration::from_secs(10);
const SEND_AT_LEAST: Duration = Duration::from_secs(5);

/// How long [`send_and_await`] tries to send when it waits `wait` for the
/// reply: `wait`, but at least [`SEND_AT_LEAST`] ([`SEND_WITHOUT_WAIT`]
/// when it does not wait) and at most a day.
fn send_bound(wait: Duration) -> Duration {
    if wait.is_zero() {
        SEND_WITHOUT_WAIT
    } else {
        wait.clamp(
            SEND_AT_LEAST,
            Duration::from_secs(kindred_config::MAX_TIMEOUT_SECS),
        )
    }
}

/// Produces `payload` keyed by `request_id` to `topic` and, unless `wait`
/// is zero, reads `reply_topic` until a JSON record whose `request_id` is
/// this one appears (`None` when not waiting). Only replies written since
/// just before the request was sent are read: an older request of the
/// same id (an operator's ticket number, sent again after an `ambiguous`
/// outcome) must not answer for this one, and the reply topic may hold
/// years of records.
///
/// Sending is bounded too ([`send_bound`]): when no broker answers in that
/// time, [`PipelineError::NotSent`] (the request never left the process);
/// librdkafka's reconnect complaints meanwhile are debug lines only.
pub async fn send_and_await(
    config: &Config,
    topic: &str,
    request_id: &str,
    payload: Vec<u8>,
    reply_topic: &str,
    wait: Duration,
) -> Result<Option<serde_json::Value>, PipelineError> {
    let settings = crate::services::kafka_settings(config);
    let bound = send_bound(wait);
    let producer = Producer::for_one_request(&settings, bound)?;
    let not_sent = |cause| PipelineError::NotSent {
        request_id: request_id.to_string(),
        topic: topic.to_string(),
        cause: Box::new(cause),
    };
    producer.reach(topic, bound).await.map_err(not_sent)?;
    // Where the reply topic ends before the request goes: its reply comes after.
    let since: BTreeMap<i32, i64> = if wait.is_zero() {
        BTreeMap::new()
    } else {
        let (settings, name) = (settings.clone(), reply_topic.to_string());
        tokio::task::spawn_blocking(move || consumer::topic_end_offsets(&settings, &name, bound))
            .await
            .map_err(|e| PipelineError::Input(format!("reading {reply_topic}: {e}")))?
            .map_err(not_sent)?
            .into_iter()
            .collect()
    };
    producer
        .send(&OutRecord {
            topic: topic.to_string(),
            key: Some(request_id.as_bytes().to_vec()),
            payload,
            headers: Vec::new(),
            timestamp_ms: None,
        })
        .await?;
    drop(producer);
    if wait.is_zero() {
        return Ok(None);
    }
    // At most a day (a larger `--wait` would overflow the deadline).
    let wait = wait.min(Duration::from_secs(kindred_config::MAX_TIMEOUT_SECS));
    let deadline = Instant::now() + wait;
    // Each look is a new reader (a connection, a handshake, a metadata
    // request): half a second apart at first, then up to 5 s apart, not
    // 7,200 readers for an hour's wait.
    let mut pause = Duration::from_millis(500);
    loop {
        let (settings, name, from, id) = (
            settings.clone(),
            reply_topic.to_string(),
            since.clone(),
            request_id.to_string(),
        );
        let found = tokio::task::spawn_blocking(move || {
            let mut found = None;
            let read = consumer::read_each_from(
                &settings,
                &name,
                &from,
                Duration::from_secs(10),
                |(_, _, payload)| {
                    let reply = serde_json::from_slice::<serde_json::Value>(&payload)
                        .ok()
                        .filter(|r| {
                            r.get("request_id").and_then(|v| v.as_str()) == Some(id.as_str())
                        });
                    if let Some(reply) = reply {
                        found = Some(reply);
                    }
                },
            );
            (found, read)
        })
        .await
        .map_err(|e| PipelineError::Input(format!("reading {reply_topic}: {e}")))?;
        let (found, read) = found;
        let found = no_reply_yet_if_silent(found, read)?;
        if found.is_some() {
            return Ok(found);
        }
        if Instant::now() >= deadline {
            return Err(PipelineError::NoReply {
                request_id: request_id.to_string(),
                topic: topic.to_string(),
                reply_topic: reply_topic.to_string(),
                secs: wait.as_secs(),
            });
        }
        tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// One look for the reply: the reply if it was read, whatever became of
/// the rest of the read (a reply already read was dropped when another
/// partition of the reply topic stayed silent); a read that timed out (a
/// partition silent: its leader away in a broker restart) is no reply yet,
/// not a failure (the command looks again until its deadline, then says
/// no reply came); any other error fails.
fn no_reply_yet_if_silent(
    found: Option<serde_json::Value>,
    read: Result<(), kindred_kafka::KafkaError>,
) -> Result<Option<serde_json::Value>, PipelineError> {
    match (found, read) {
        (Some(reply), _) => Ok(Some(reply)),
        (None, Ok(()) | Err(kindred_kafka::KafkaError::Timeout { .. })) => Ok(None),
        (None, Err(e)) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    /// A reply topic silent for one look's 10 s is no reply yet before
    /// the command's deadline (it failed after its request was sent), and
    /// the failure it is after it; other errors fail at once.
    #[test]
    fn a_silent_reply_partition_is_no_reply_yet_and_a_reply_read_stands() {
        let timeout = || {
            Err(kindred_kafka::KafkaError::Timeout {
                operation: "read".into(),
                after: std::time::Duration::from_secs(10),
            })
        };
        assert!(matches!(
            super::no_reply_yet_if_silent(None, timeout()),
            Ok(None)
        ));
        // A reply read on one partition stands though another was silent
        // (helper-183: it was dropped, look after look).
        let reply = serde_json::json!({"request_id": "R-1"});
        assert!(matches!(
            super::no_reply_yet_if_silent(Some(reply), timeout()),
            Ok(Some(_))
        ));
        let refused = Err(kindred_kafka::KafkaError::UnknownTopic {
            topic: "replies".into(),
        });
        assert!(super::no_reply_yet_if_silent(None, refused).is_err());
    }

    use super::*;

    #[test]
    fn a_request_reads_back_as_sent_and_an_incomplete_one_says_what_is_missing() {
        let request = DecisionRequest {
            request_id: "dr-1".into(),
            actor: "alice".into(),
            at_ms: 5,
            action: DecisionAction::Split {
                profile: "kp-000000000007".into(),
                identifier_key: Some("phone:00ff".into()),
                source: None,
            },
        };
        let bytes = serde_json::to_vec(&request).expect("encodes");
        assert_eq!(parse_request(&bytes).expect("parses"), request);
        let review = br#"{"request_id":"dr-2","actor":"bob","at_ms":1,"action":{"review":{"a":"kp-1","b":"kp-2","approve":false}}}"#;
        assert!(matches!(
            parse_request(review).expect("parses").action,
            DecisionAction::Review { approve: false, .. }
        ));

        for (payload, kind, says) in [
            (&br#"{"request_id":"dr-3","actor":"","at_ms":1,"action":{"review":{"a":"kp-1","b":"kp-2","approve":true}}}"#[..], "decision_incomplete", "no actor"),
            (br#"{"request_id":"dr-4","actor":"x","at_ms":1,"action":{"split":{"profile":"kp-1"}}}"#, "decision_incomplete", "exactly one"),
            (br#"{"request_id":"dr-5","actor":"x","at_ms":1,"action":{"split":{"profile":"kp-1","identifier_key":"phone:1","source":"WEB"}}}"#, "decision_incomplete", "exactly one"),
            (br#"{"request_id":"dr-6","actor":"x","at_ms":1,"action":{"+8613900001111":{}}}"#, "decision_malformed", "wrong type"),
            (br#"{"request_id":"dr-7","actor":"x","at_ms":"+8613900001111","action":{"review":{}}}"#, "decision_malformed", "wrong type"),
            (b"not json", "decision_malformed", "not JSON"),
        ] {
            let e = parse_request(payload).expect_err("refused");
            assert_eq!(e.kind(), kind, "{e}");
            assert!(e.to_string().contains(says), "{e}");
            assert!(!e.to_string().contains("+8613900001111"), "no value quoted: {e}");
        }
        let e = parse_request(br#"{"request_id":"dr-8","actor":"x","at_ms":1,"action":{"review":{"a":"kp-1","b":"+8613900001111","approve":true}}}"#)
            .expect_err("not a profile id");
        assert!(
            e.to_string().contains("profile ids") && !e.to_string().contains("+86"),
            "{e}"
        );
        // Whatever a reply quotes is bounded, so the reply fits a record.
        let long = "x".repeat(MAX_FREE_TEXT_BYTES + 1);
        for payload in [
            format!(
                r#"{{"request_id":"{long}","actor":"x","at_ms":1,"action":{{"review":{{"a":"kp-1","b":"kp-2","approve":true}}}}}}"#
            ),
            format!(
                r#"{{"request_id":"d","actor":"{long}","at_ms":1,"action":{{"review":{{"a":"kp-1","b":"kp-2","approve":true}}}}}}"#
            ),
            format!(
                r#"{{"request_id":"d","actor":"x","at_ms":1,"action":{{"split":{{"profile":"kp-1","identifier_key":"device:{}"}}}}}}"#,
                "x".repeat(MAX_KEY_BYTES)
            ),
            format!(
                r#"{{"request_id":"d","actor":"x","at_ms":1,"action":{{"review":{{"a":"kp-1","b":"kp-{}","approve":true}}}}}}"#,
                "1".repeat(21)
            ),
        ] {
            let e = parse_request(payload.as_bytes()).expect_err("too long");
            assert_eq!(e.kind(), "decision_incomplete", "{e}");
        }
        let at_limit = format!(
            r#"{{"request_id":"{}","actor":"x","at_ms":1,"action":{{"review":{{"a":"kp-18446744073709551615","b":"kp-2","approve":true}}}}}}"#,
            "d".repeat(MAX_FREE_TEXT_BYTES)
        );
        assert!(parse_request(at_limit.as_bytes()).is_ok());
        // A plaintext store's key for a long namespaced id is its value.
        let long_device = format!(
            r#"{{"request_id":"d","actor":"x","at_ms":1,"action":{{"split":{{"profile":"kp-1","identifier_key":"device:web:{}"}}}}}}"#,
            "a".repeat(256)
        );
        assert!(parse_request(long_device.as_bytes()).is_ok());
    }

    /// A dead-lettered request keeps its known fields; the identifier key
    /// (the raw value in a plaintext store) is masked and unknown keys go.
    #[test]
    fn a_dead_lettered_request_masks_its_identifier_key_and_drops_unknown_keys() {
        let payload = br#"{"request_id":"dr-1","actor":"ops","at_ms":5,"action":{"split":{"profile":"kp-7","identifier_key":"phone:+8613900001111","+8613900002222":1},"+8613900003333":{},"review":{"a":"kp-1","b":"phone:+8613900005555","approve":"+8613900006666"}},"extra":"+8613900004444"}"#;
        let masked = String::from_utf8(masked_payload(payload)).expect("utf-8");
        for raw in [
            "+8613900001111",
            "+8613900002222",
            "+8613900003333",
            "+8613900004444",
            "+8613900005555",
            "+8613900006666",
        ] {
            assert!(!masked.contains(raw), "{masked}");
        }
        let back: serde_json::Value = serde_json::from_str(&masked).expect("json");
        assert_eq!(back["request_id"], "dr-1");
        assert_eq!(back["action"]["split"]["profile"], "kp-7");
        assert!(
            back["action"]["split"]["identifier_key"].is_string(),
            "{back}"
        );
        assert!(masked_payload(b"not json").is_empty());
    }
}
