//! Merges you can trust, through a real Kafka broker: a refused link reaches
//! the review topic, and an offline split made while the resolver is
//! stopped reaches the profile topic when it starts again (outbox), and so
//! does a `republish` after the output policy changed.

use std::time::Duration;

use kindred_kafka::rdkafka::message::{Message, OwnedMessage};
use kindred_kafka::DeadLetter;
use kindred_model::{
    CanonicalEvent, ChangeType, Channel, Identifier, IdentifierKind, ProfileChange,
};
use kindred_pipeline::services::deadletter::{replay, ReplayFilter};
use kindred_pipeline::Shutdown;
use kindred_schema::{Framing, SchemaKind, WireCodec};
use kindred_suite::{
    create_topics, isolated_config, produce, read_all, read_until, start_resolver,
};

const T0: i64 = 1_735_689_600_000;

fn event(id: &str, t: i64, ids: &[(IdentifierKind, &str)], name: Option<&str>) -> CanonicalEvent {
    let ids = ids.iter().map(|(k, v)| Identifier::new(*k, *v)).collect();
    let mut e = CanonicalEvent::new(id, Channel::Pos, t, ids);
    e.attributes.full_name = name.map(Into::into);
    e
}

fn changes(codec: &WireCodec, messages: &[OwnedMessage]) -> Vec<ProfileChange> {
    messages
        .iter()
        .filter_map(|m| {
            codec
                .decode(Framing::Confluent, SchemaKind::ProfileChange, m.payload()?)
                .ok()
        })
        .collect()
}

/// A household phone (two names: refused, queued for review) and two
/// people glued by a phone neither names (a wrong merge).
fn household_and_wrong_merge() -> Vec<CanonicalEvent> {
    use IdentifierKind::{Email, MemberId, Phone};
    vec![
        // A household phone: different names, refused, queued for review.
        event(
            "pos:h1",
            T0,
            &[(MemberId, "MAIN:H1"), (Phone, "+8613900000001")],
            Some("李娜"),
        ),
        event(
            "pos:h2",
            T0 + 1,
            &[(Email, "wei@x.cn"), (Phone, "+8613900000001")],
            Some("王伟"),
        ),
        // Two people glued by a phone neither names: a wrong merge.
        event(
            "pos:a1",
            T0 + 2,
            &[(MemberId, "MAIN:M-A001"), (Phone, "+8613911112222")],
            None,
        ),
        event(
            "pos:b1",
            T0 + 3,
            &[(Email, "b@y.cn"), (Phone, "+8613911112222")],
            None,
        ),
    ]
}

/// A test's own topics, with [`household_and_wrong_merge`] on its
/// canonical topic.
async fn household_case(
    test: &str,
    dir: &std::path::Path,
) -> anyhow::Result<(kindred_config::Config, WireCodec)> {
    let config = isolated_config(test, dir);
    create_topics(&config).await?;
    let codec = WireCodec::with_default_ids()?;
    for e in household_and_wrong_merge() {
        produce(
            &config,
            &config.topics.canonical,
            &e.event_id,
            codec.encode(SchemaKind::CanonicalEvent, &e)?,
        )
        .await?;
    }
    Ok((config, codec))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggestions_reach_the_review_topic_and_offline_splits_the_profile_topic(
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (config, codec) = household_case("review", dir.path()).await?;
    let shutdown = Shutdown::new();
    let task = start_resolver(&config, &shutdown);
    let timeout = Duration::from_secs(90);
    let review = read_until(&config, &config.topics.review, timeout, |m| !m.is_empty()).await?;
    let body: serde_json::Value = serde_json::from_slice(review[0].payload().unwrap_or_default())?;
    assert_eq!(body["reason"], "name_mismatch");
    assert_eq!(body["kinds"], serde_json::json!(["phone"]));
    assert!(body["record_a"]["profile_id"].is_string() && body["record_b"].is_object());
    let key = format!(
        "{}|{}",
        body["profile_a"].as_str().unwrap_or(""),
        body["profile_b"].as_str().unwrap_or("")
    );
    assert_eq!(review[0].key(), Some(key.as_bytes()));
    // b1 joined a1's profile through the phone: one profile holds both.
    read_until(&config, &config.topics.profiles, timeout, |m| {
        changes(&codec, m).iter().any(|c| {
            c.record
                .as_ref()
                .is_some_and(|r| r.event_count == 2 && r.identifiers.len() == 3)
        })
    })
    .await?;
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(15), task).await???;
    // One pair, once: the review topic read to its end.
    assert_eq!(read_all(&config, &config.topics.review).await?.len(), 1);

    // Offline, with the resolver stopped: split the wrong merge.
    let report = tokio::task::spawn_blocking({
        let config = config.clone();
        move || {
            kindred_pipeline::admin::split(
                &config,
                "member_id:m-a001",
                Some("phone:+8613911112222"),
                None,
                "ops",
            )
        }
    })
    .await??;
    assert!(report.contains("split"), "{report}");

    // The resolver publishes the split when it starts again.
    let shutdown = Shutdown::new();
    let task = start_resolver(&config, &shutdown);
    let messages = read_until(&config, &config.topics.profiles, timeout, |m| {
        changes(&codec, m)
            .iter()
            .any(|c| c.change_type == ChangeType::Split)
    })
    .await?;
    let split: Vec<ProfileChange> = changes(&codec, &messages)
        .into_iter()
        .filter(|c| c.change_type == ChangeType::Split)
        .collect();
    assert_eq!(split[0].split_into.len(), 1);
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(15), task).await???;
    // Counted on the whole topic once the resolver has stopped
    // (`read_until` returned at the first split, so it saw no second).
    let published = read_all(&config, &config.topics.profiles).await?;
    let splits = changes(&codec, &published)
        .into_iter()
        .filter(|c| c.change_type == ChangeType::Split)
        .count();
    assert_eq!(splits, 1, "the split is published once");
    let store = kindred_pipeline::privacy::open_store(&config)?;
    assert!(
        store.outbox()?.is_empty(),
        "the outbox is drained after publishing"
    );
    let live = store.stats()?.profiles;
    drop(store);

    // The profile topic's output policy changes (e-mails no longer
    // published); `republish` puts every live profile on the topic again,
    // under the new policy, when the resolver next runs.
    let mut config = config;
    config.privacy.output.profiles.email = kindred_config::FieldPolicy::Omitted;
    let report = tokio::task::spawn_blocking({
        let config = config.clone();
        move || kindred_pipeline::admin::republish(&config, "dpo")
    })
    .await??;
    assert!(
        report.contains(&format!("queued {live} profiles")),
        "{report}"
    );
    let shutdown = Shutdown::new();
    let task = start_resolver(&config, &shutdown);
    let republished = |m: &[OwnedMessage]| -> Vec<ProfileChange> {
        changes(&codec, m)
            .into_iter()
            .filter(|c| {
                c.change_type == ChangeType::Updated
                    && c.changed_fields.is_empty()
                    && c.cause_event_id.starts_with("decision:")
            })
            .collect()
    };
    let messages = read_until(&config, &config.topics.profiles, timeout, |m| {
        republished(m).len() as u64 >= live
    })
    .await?;
    let again = republished(&messages);
    let has_email = |c: &ProfileChange| {
        c.record.as_ref().is_some_and(|r| {
            r.identifiers
                .iter()
                .any(|i| i.kind == IdentifierKind::Email)
        })
    };
    assert!(!again.iter().any(has_email), "published without e-mails");
    assert!(
        changes(&codec, &messages).iter().any(has_email),
        "the same profiles went out with (masked) e-mails before"
    );
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(15), task).await???;
    // Every live profile once, counted on the whole topic once the
    // resolver has stopped (`read_until` returned when the count first
    // reached `live`: a profile sent twice and one never would pass it).
    let all = republished(&read_all(&config, &config.topics.profiles).await?);
    let ids: std::collections::BTreeSet<&str> = all.iter().map(|c| c.profile_id.as_str()).collect();
    assert_eq!(all.len() as u64, live, "every live profile once");
    assert_eq!(ids.len() as u64, live, "each a different profile");
    let store = kindred_pipeline::privacy::open_store(&config)?;
    for id in &ids {
        assert!(
            matches!(store.profile(id)?, Some(p) if p.profile_id == *id),
            "{id} republished is a live profile of the store"
        );
    }
    Ok(())
}

/// `kindred review|split --live`: decisions sent to the running resolver on
/// the decision-request topic are applied in order with the events, and
/// each gets its reply; a refused one says why, a malformed one is
/// dead-lettered, and the resolver keeps running throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_decisions_apply_while_the_resolver_runs() -> anyhow::Result<()> {
    use kindred_pipeline::live::{decide, LiveDecision};
    let dir = tempfile::tempdir()?;
    let (config, codec) = household_case("live-review", dir.path()).await?;
    let shutdown = Shutdown::new();
    let task = start_resolver(&config, &shutdown);
    let timeout = Duration::from_secs(90);
    let wait = Duration::from_secs(60);
    let review = read_until(&config, &config.topics.review, timeout, |m| !m.is_empty()).await?;
    let body: serde_json::Value = serde_json::from_slice(review[0].payload().unwrap_or_default())?;
    let (pa, pb) = (
        body["profile_a"].as_str().unwrap_or("").to_string(),
        body["profile_b"].as_str().unwrap_or("").to_string(),
    );
    let glued = read_until(&config, &config.topics.profiles, timeout, |m| {
        changes(&codec, m)
            .iter()
            .any(|c| c.record.as_ref().is_some_and(|r| r.event_count == 2))
    })
    .await?;
    let glued = changes(&codec, &glued)
        .into_iter()
        .find(|c| c.record.as_ref().is_some_and(|r| r.event_count == 2))
        .map(|c| c.profile_id)
        .unwrap_or_default();

    // The queue, read from the review topic while the resolver runs.
    let queue = kindred_pipeline::live::review_list(&config, true).await?;
    let queue: serde_json::Value = serde_json::from_str(&queue)?;
    assert_eq!(queue.as_array().map(Vec::len), Some(1), "{queue}");
    assert_eq!(queue[0]["profile_a"], body["profile_a"]);
    assert_eq!(queue[0]["reason"], "name_mismatch");
    // A reviewer rejects the household pair, the resolver still running.
    let reject = LiveDecision::Review {
        a: &pa,
        b: &pb,
        approve: false,
    };
    let report = decide(&config, reject, "bob", wait, false).await?;
    assert!(report.contains("(reject) by bob"), "{report}");
    // The decided pair leaves the queue (a tombstone on the review topic).
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let queue = kindred_pipeline::live::review_list(&config, false).await?;
        if queue.starts_with("0 pairs waiting for review") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{queue}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // An operator splits the phone out of the wrong merge, named by its
    // index key on the topic.
    let split = LiveDecision::Split {
        profile: &glued,
        identifier: Some("phone:+8613911112222"),
        source: None,
    };
    let report = decide(&config, split, "ops", wait, true).await?;
    let reply: serde_json::Value = serde_json::from_str(&report)?;
    assert_eq!(reply["outcome"], "applied", "{reply}");
    assert_eq!(reply["kind"], "split_identifier", "{reply}");
    let messages = read_until(&config, &config.topics.profiles, timeout, |m| {
        changes(&codec, m)
            .iter()
            .any(|c| c.change_type == ChangeType::Split)
    })
    .await?;
    assert!(changes(&codec, &messages)
        .iter()
        .any(|c| c.change_type == ChangeType::Split && c.profile_id == glued));
    // `explain` and the store's queue, read beside the running resolver:
    // the split (replied to, so committed) is in the lineage, and the
    // rejected pair is out of the queue.
    let explained = kindred_pipeline::admin::explain(&config, &glued, true)?;
    let explained: serde_json::Value = serde_json::from_str(&explained)?;
    let lineage = explained["lineage"].as_array().cloned().unwrap_or_default();
    assert!(
        lineage
            .iter()
            .any(|l| l["split_into"].as_array().is_some_and(|s| !s.is_empty())),
        "{explained}"
    );
    assert_eq!(kindred_pipeline::admin::review_list(&config, true)?, "[]");
    // Refused: a profile that is not there. The reply says which.
    let missing = LiveDecision::Review {
        a: &pa,
        b: "kp-999999999999",
        approve: true,
    };
    let err = decide(&config, missing, "bob", wait, false)
        .await
        .expect_err("refused");
    assert!(
        err.to_string().contains("refused") && err.to_string().contains("kp-999999999999"),
        "{err}"
    );
    // With --json, the refusal is the reply itself, for the caller to print.
    let missing = LiveDecision::Review {
        a: &pa,
        b: "kp-999999999999",
        approve: true,
    };
    match decide(&config, missing, "bob", wait, true).await {
        Err(kindred_pipeline::PipelineError::Refused(reply)) => {
            let reply: serde_json::Value = serde_json::from_str(&reply)?;
            assert_eq!(reply["outcome"], "refused", "{reply}");
            assert!(reply["reason"]
                .as_str()
                .is_some_and(|r| r.contains("kp-999999999999")));
        }
        other => panic!("a refusal, not {other:?}"),
    }
    // `--wait-secs 0 --json`: sent, not waited for; JSON still.
    let unwaited = LiveDecision::Review {
        a: &pa,
        b: "kp-999999999998",
        approve: true,
    };
    let sent: serde_json::Value =
        serde_json::from_str(&decide(&config, unwaited, "bob", Duration::ZERO, true).await?)?;
    assert_eq!(sent["outcome"], "sent", "{sent}");
    assert!(
        sent["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("dr-")),
        "{sent}"
    );
    // Not a request (a field it should not have): dead-lettered with its
    // reason and its identifier masked, the service goes on.
    let junk = br#"{"request_id":"dr-j","actor":"x","at_ms":1,"action":{"split":{"profile":"kp-000000000001","identifier_key":"phone:+8613900009999"}},"extra":1}"#;
    // Keyed by a phone number: the key is masked too.
    produce(
        &config,
        &config.topics.decision_requests,
        "+86 139 0000 8888",
        junk.to_vec(),
    )
    .await?;
    let dead = read_until(&config, &config.topics.dead_letter, timeout, |m| {
        !m.is_empty()
    })
    .await?;
    let h = kindred_suite::headers(&dead[0]);
    assert_eq!(h["kindred.dlq.reason"], "decision_malformed", "{h:?}");
    assert_eq!(
        h["kindred.dlq.source.topic"],
        config.topics.decision_requests
    );
    let kept = String::from_utf8_lossy(dead[0].payload().unwrap_or_default()).into_owned();
    assert!(
        kept.contains("dr-j") && !kept.contains("+8613900009999"),
        "{kept}"
    );
    let key = String::from_utf8_lossy(dead[0].key().unwrap_or_default()).into_owned();
    assert!(!key.contains("0000 8888") && !key.is_empty(), "{key}");
    // The copy is not the request: without `extra` it would parse, and a
    // replay would carry out a split nobody sent in that form.
    assert_eq!(h[DeadLetter::MASKED], "true", "{h:?}");
    let replayed = replay(&config, &ReplayFilter::default()).await?;
    assert_eq!(replayed.masked, 1, "{replayed:?}");
    assert!(replayed.replayed.is_empty(), "{replayed:?}");
    let approve_after = LiveDecision::Review {
        a: &pa,
        b: &pb,
        approve: true,
    };
    let report = decide(&config, approve_after, "carol", wait, false).await?;
    assert!(report.contains("(approve) by carol"), "{report}");
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(15), task).await???;

    // The store recorded the requests as applied (offset past the last)
    // and the review queue is empty.
    let store = kindred_pipeline::privacy::open_store(&config)?;
    assert_eq!(
        store
            .offsets()?
            .get(&(config.topics.decision_requests.clone(), 0))
            .copied(),
        Some(7)
    );
    assert!(store.pending_suggestions()?.is_empty());
    let outcomes = kindred_kafka::consumer::read_to_end(
        &kindred_pipeline::services::kafka_settings(&config),
        &config.topics.decision_outcomes,
        timeout,
    )?;
    assert_eq!(outcomes.len(), 6, "one reply per request");
    Ok(())
}
