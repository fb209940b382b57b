use kindred_config::Config;
use kindred_kafka::{KafkaSettings, TopicSpec};
use kindred_model::Channel;
use kindred_schema::Framing;

/// The raw topic of a channel.
pub fn raw_topic(config: &Config, channel: Channel) -> &str {
    match channel {
        Channel::Pos => &config.topics.pos,
        Channel::Web => &config.topics.web,
        Channel::Social => &config.topics.social,
    }
}

/// How a channel's raw records are framed (`[schemas.framing]`; Confluent
/// Avro unless it says "json").
pub fn raw_framing(config: &Config, channel: Channel) -> Framing {
    match config
        .schemas
        .framing
        .get(channel.as_str())
        .map(String::as_str)
    {
        Some("json") => Framing::Json,
        _ => Framing::Confluent,
    }
}

/// Every topic kindred uses. The profile topic is compacted: downstream
/// consumers that read it from the start converge to one record per profile.
pub fn all_topics(config: &Config) -> Vec<TopicSpec> {
    let t = &config.topics;
    let durability = min_insync_replicas(t.replication_factor);
    let spec = |name: &str, config: Vec<(String, String)>| TopicSpec {
        name: name.to_string(),
        partitions: t.partitions,
        replication_factor: t.replication_factor,
        config: [config, durability.clone()].concat(),
    };
    vec![
        spec(&t.pos, vec![]),
        spec(&t.web, vec![]),
        spec(&t.social, vec![]),
        spec(&t.canonical, vec![]),
        spec(
            &t.profiles,
            [
                erasure_compaction(config),
                vec![(
                    "min.compaction.lag.ms".into(),
                    kindred_config::PROFILE_MIN_COMPACTION_LAG_MS.to_string(),
                )],
            ]
            .concat(),
        ),
        spec(
            &t.dead_letter,
            vec![("retention.ms".into(), "2592000000".into())],
        ),
        spec(&t.review, erasure_compaction(config)),
        spec(
            &t.quarantine,
            vec![("retention.ms".into(), "2592000000".into())],
        ),
        // One record per publisher, read whole on every resolver start.
        // Each transaction appends one, and compaction never cleans the
        // newest segment: roll it hourly so the log stays short.
        TopicSpec {
            partitions: 1,
            ..spec(
                &t.progress,
                vec![
                    ("cleanup.policy".into(), "compact".into()),
                    ("segment.ms".into(), "3600000".into()),
                    ("min.cleanable.dirty.ratio".into(), "0.1".into()),
                ],
            )
        },
        // Requests are applied in order with the events: one partition.
        // Kept for good: a restored snapshot re-reads the requests made
        // since it was taken, and a rebuild re-applies those by identifier.
        TopicSpec {
            partitions: 1,
            ..spec(
                &t.erasure_requests,
                vec![("retention.ms".into(), "-1".into())],
            )
        },
        // Kept as long as a regulator may ask (default seven years).
        spec(
            &t.erasure_audit,
            vec![("retention.ms".into(), "220752000000".into())],
        ),
        // The latest decisions on each event, for as long as the store
        // lives: a rebuild reads it back.
        spec(
            &t.decisions,
            vec![("cleanup.policy".into(), "compact".into())],
        ),
        // Applied in order with the events: one partition. Kept 30 days: a
        // restored snapshot re-reads the requests made since it was taken
        // (a split names an identifier by its keyed hash).
        TopicSpec {
            partitions: 1,
            ..spec(
                &t.decision_requests,
                vec![("retention.ms".into(), "2592000000".into())],
            )
        },
        spec(
            &t.decision_outcomes,
            vec![("retention.ms".into(), "2592000000".into())],
        ),
    ]
}

/// `min.insync.replicas` for topics of `replication_factor` replicas: a
/// majority from 3 up (2 of 3), so a write kindred's producers make with
/// `acks=all` is on two brokers before it counts (Kafka's default of 1 lets
/// the leader alone take it, and a committed canonical event or published
/// change is lost with that broker). With 1 or 2 replicas, the broker's
/// own setting (2 of 2 would stop every write while one broker is down).
fn min_insync_replicas(replication_factor: i32) -> Vec<(String, String)> {
    if replication_factor < 3 {
        return Vec::new();
    }
    vec![(
        "min.insync.replicas".into(),
        (replication_factor / 2 + 1).to_string(),
    )]
}

/// The settings of a compacted topic that holds personal data (the profile
/// and review topics): an erased person's earlier records are cleaned
/// within `topics.compaction_deadline_ms`, and their tombstones kept
/// `topics.tombstone_retention_ms` for consumers that were away.
fn erasure_compaction(config: &Config) -> Vec<(String, String)> {
    let t = &config.topics;
    vec![
        ("cleanup.policy".into(), "compact".into()),
        (
            "max.compaction.lag.ms".into(),
            t.compaction_deadline_ms.to_string(),
        ),
        (
            "delete.retention.ms".into(),
            t.tombstone_retention_ms.to_string(),
        ),
    ]
}

/// What keeps the profile or review topic, as the broker has it, from
/// clearing an erased person within the configured deadline: a topic made
/// before these settings (or by hand) is left as it is by `kindred topics
/// create`. Each problem names the topic, the setting, both values and
/// the `kafka-configs` command that sets it. A broker that does not say
/// (no DescribeConfigs permission) gives a problem saying so.
pub async fn erasure_compaction_problems(config: &Config, settings: &KafkaSettings) -> Vec<String> {
    let t = &config.topics;
    let mut problems = Vec::new();
    for topic in [&t.profiles, &t.review] {
        for (name, wanted) in erasure_compaction(config) {
            let have = match kindred_kafka::topic_setting(settings, topic, &name).await {
                Ok(have) => have,
                Err(e) => {
                    problems.push(format!("cannot read {name} of topic {topic}: {e}"));
                    continue;
                }
            };
            let fine = match (name.as_str(), have.as_deref()) {
                ("cleanup.policy", Some(have)) => have.split(',').any(|p| p.trim() == "compact"),
                // At most the deadline: sooner is fine.
                ("max.compaction.lag.ms", Some(have)) => have
                    .parse::<i64>()
                    .is_ok_and(|have| have <= t.compaction_deadline_ms),
                // At least the retention: longer is fine.
                ("delete.retention.ms", Some(have)) => have
                    .parse::<i64>()
                    .is_ok_and(|have| have >= t.tombstone_retention_ms),
                _ => false,
            };
            if !fine {
                problems.push(format!(
                    "topic {topic} has {name}={}, want {wanted}: kafka-configs.sh --bootstrap-server {} --alter --entity-type topics --entity-name {topic} --add-config {name}={wanted}",
                    have.as_deref().unwrap_or("(not reported)"),
                    settings.brokers,
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replicated topics had the broker's `min.insync.replicas` (1 by
    /// default): `acks=all` was met by the leader alone.
    #[test]
    fn replicated_topics_need_a_majority_in_sync() {
        let mut config = Config::default();
        let minimum = |config: &Config| -> Vec<Option<String>> {
            all_topics(config)
                .into_iter()
                .map(|t| {
                    t.config
                        .into_iter()
                        .find(|(k, _)| k == "min.insync.replicas")
                        .map(|(_, v)| v)
                })
                .collect()
        };
        assert!(minimum(&config).iter().all(Option::is_none));
        config.topics.replication_factor = 3;
        assert!(minimum(&config).iter().all(|m| m.as_deref() == Some("2")));
        config.topics.replication_factor = 5;
        assert!(minimum(&config).iter().all(|m| m.as_deref() == Some("3")));
    }
}
