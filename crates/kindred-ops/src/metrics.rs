use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The metrics of one service, in its own registry (so several services can
/// run in one process, as the tests do).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Messages read from a topic.
    pub events_consumed: IntCounterVec,
    /// Records written to a topic and acknowledged by the broker.
    pub events_produced: IntCounterVec,
    /// Messages sent to the dead-letter topic, by source topic and reason.
    pub dead_letters: IntCounterVec,
    /// Values refused by normalization (identifiers and attributes), by field and reason.
    pub values_dropped: IntCounterVec,
    /// Profile change events, by change type.
    pub profile_changes: IntCounterVec,
    /// Events skipped because their source event id was already applied.
    pub duplicate_events: IntCounterVec,
    /// Failures, by error type and stage (Vector's component_errors_total).
    pub component_errors: IntCounterVec,
    /// Links the resolver refused, by guard.
    pub merges_refused: IntCounterVec,
    /// Stored events the resolver re-read to recompute profiles.
    pub recomputed_events: IntCounterVec,
    pub erasures: IntCounterVec,
    /// Decision requests (`--live` reviews and splits), by outcome.
    pub decision_requests: IntCounterVec,
    pub events_suppressed: IntCounterVec,
    /// Identifiers the over-shared guard quarantined, by kind.
    pub identifiers_quarantined: IntCounterVec,
    pub identifiers_marked_shared: IntCounterVec,
    /// Pairs sent to the review queue, by reason.
    pub review_suggestions: IntCounterVec,
    /// `kindred_profile_change_lists_cut_total{list}`: parts of profile
    /// changes cut to fit one Kafka record (`moved_event_ids`,
    /// `absorbed_ids`, `split_into`, `identifiers`, `record`).
    pub change_lists_cut: IntCounterVec,
    /// Time to process one batch, from first message to committed offsets.
    pub batch_duration: HistogramVec,
    /// `kindred_consumer_rebalances_total{event}`: assigned, revoked, failed.
    pub rebalances: IntCounterVec,
    /// `kindred_consumer_skipped_messages_total{topic}`: messages deleted
    /// from a partition (retention, delete-records) before this service
    /// processed them.
    pub skipped_messages: IntCounterVec,
    /// `kindred_transactions_total{result}`: committed, aborted, producer_rebuilt, fenced.
    pub transactions: IntCounterVec,
    /// `kindred_outbox_entries`: records written to the store, not yet committed to Kafka.
    pub outbox_backlog: IntGauge,
    /// `kindred_consumer_assigned_partitions{topic}`: partitions of each
    /// topic the service's consumer reads that it holds (checked every
    /// second while it polls).
    pub assigned_partitions: IntGaugeVec,
    /// Profiles in the store after the last batch.
    pub profiles: IntGauge,
    /// `kindred_event_lag_seconds{stage}`: from the raw record's Kafka
    /// timestamp to its processing by a stage.
    pub event_lag: HistogramVec,
    /// `kindred_consumer_lag_messages{topic,partition}`, from librdkafka's
    /// statistics; set with [`Metrics::set_consumer_lag`].
    consumer_lag: IntGaugeVec,
    /// The resolver store's RocksDB figures; set with [`Metrics::set_store`].
    store: StoreGauges,
    build_info: IntGaugeVec,
}

/// Gauges of the resolver's RocksDB store.
#[derive(Clone)]
struct StoreGauges {
    identifiers: IntGauge,
    live_data: IntGauge,
    pending_compaction: IntGauge,
    block_cache: IntGauge,
    write_stopped: IntGauge,
    write_delayed: IntGauge,
}

/// The store figures [`Metrics::set_store`] takes (kindred-ops does not
/// depend on the resolver; the service copies them over).
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreFigures {
    pub identifiers: u64,
    pub live_data_bytes: u64,
    pub pending_compaction_bytes: u64,
    pub block_cache_usage_bytes: u64,
    pub write_stopped: bool,
    pub write_delayed: bool,
}

impl Metrics {
    /// A fresh registry with every kindred metric, labelled with `service`.
    pub fn new(service: &str) -> Self {
        let registry = Registry::new_custom(
            None,
            Some([("service".to_string(), service.to_string())].into()),
        )
        .unwrap_or_else(|e| unreachable!("static registry settings are valid: {e}"));
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels)
                .unwrap_or_else(|e| unreachable!("metric {name} is well-formed: {e}"));
            registry
                .register(Box::new(c.clone()))
                .unwrap_or_else(|e| unreachable!("metric {name} is registered once: {e}"));
            c
        };
        let events_consumed = counter(
            "kindred_events_consumed_total",
            "Messages read from a topic.",
            &["topic"],
        );
        let events_produced = counter(
            "kindred_events_produced_total",
            "Records written to a topic and acknowledged by the broker.",
            &["topic"],
        );
        let dead_letters = counter(
            "kindred_dead_letters_total",
            "Messages sent to the dead-letter topic, by source topic and reason.",
            &["topic", "reason"],
        );
        let values_dropped = counter(
            "kindred_values_dropped_total",
            "Values refused by normalization (identifiers and attributes), by field and reason; the event is kept.",
            &["field", "reason"],
        );
        let profile_changes = counter(
            "kindred_profile_changes_total",
            "Profile change events emitted, by change type.",
            &["change_type"],
        );
        let duplicate_events = counter(
            "kindred_duplicate_events_total",
            "Events skipped because their source event id was already applied.",
            &["channel"],
        );
        let component_errors = counter(
            "kindred_component_errors_total",
            "Errors by type and pipeline stage.",
            &["error_type", "stage"],
        );
        let merges_refused = counter(
            "kindred_merges_refused_total",
            "Links between records the resolver refused, by guard (member_cards, limit_<kind>, name_mismatch, birthday_mismatch, giant_profile, decision), counted each time it evaluates them: a refusal inside a contested profile repeats as its records arrive (distinct pairs: kindred_review_suggestions_total). Alert on giant_profile.",
            &["reason"],
        );
        let recomputed_events = counter(
            "kindred_resolver_recomputed_events_total",
            "Stored events re-read to recompute profiles (merges, splits, guards that may change their mind); each new event that joins a profile without one adds nothing.",
            &[],
        );
        let erasures = counter(
            "kindred_erasures_total",
            "Erasure requests applied, by outcome (erased, not_found, ambiguous).",
            &["outcome"],
        );
        let decision_requests = counter(
            "kindred_decision_requests_total",
            "Review and split decisions sent to the running resolver, by outcome (applied, refused).",
            &["outcome"],
        );
        let events_suppressed = counter(
            "kindred_events_suppressed_total",
            "Events dropped because they carry an identifier of an erased person (the suppression list).",
            &["topic"],
        );
        let identifiers_quarantined = counter(
            "kindred_identifiers_quarantined_total",
            "Identifiers taken out of linking as over-shared (seen with too many distinct people), by kind.",
            &["kind"],
        );
        let identifiers_marked_shared = counter(
            "kindred_identifiers_marked_shared_total",
            "Immutable identifiers (member cards) an event showed shared, their records naming clearly different people (or more than 16 distinct names), by kind: they link only alike names, and their walk-in receipts count alone on a landline. Counted as events arrive (not by rules apply), while quarantine.max_unnamed_holders is on.",
            &["kind"],
        );
        let review_suggestions = counter(
            "kindred_review_suggestions_total",
            "Pairs of profiles sent to the review queue, by reason.",
            &["reason"],
        );
        let change_lists_cut = counter(
            "kindred_profile_change_lists_cut_total",
            "Parts of published profile changes cut to fit one Kafka record, by list (moved_event_ids, absorbed_ids, split_into, identifiers, record); the record's header gives the full length.",
            &["list"],
        );
        let rebalances = counter(
            "kindred_consumer_rebalances_total",
            "Consumer group rebalances seen by this member, by event (assigned, revoked, failed).",
            &["event"],
        );
        let skipped_messages = counter(
            "kindred_consumer_skipped_messages_total",
            "Offsets deleted from a partition (retention, kafka-delete-records) before this service processed them (messages, and any transaction markers among them): the consumer had to start past them, and they are lost to kindred. Alert on any.",
            &["topic"],
        );
        let transactions = counter(
            "kindred_transactions_total",
            "Kafka transactions of the outbox publisher, by result (committed, aborted, producer_rebuilt, fenced).",
            &["result"],
        );
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help)
                .unwrap_or_else(|e| unreachable!("gauge {name} is well-formed: {e}"));
            registry
                .register(Box::new(g.clone()))
                .unwrap_or_else(|e| unreachable!("gauge {name} is registered once: {e}"));
            g
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>, labels: &[&str]| {
            let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
                .unwrap_or_else(|e| unreachable!("histogram {name} is well-formed: {e}"));
            registry
                .register(Box::new(h.clone()))
                .unwrap_or_else(|e| unreachable!("histogram {name} is registered once: {e}"));
            h
        };
        let batch_duration = histogram(
            "kindred_batch_duration_seconds",
            "Time to process one batch, from its first message to committed offsets.",
            // 1 ms to 17 min: a resolver batch may take up to its
            // heartbeat limit of 10 minutes (a recomputation of a giant).
            prometheus::exponential_buckets(0.001, 2.0, 21).unwrap_or_default(),
            &["stage"],
        );
        let event_lag = histogram(
            "kindred_event_lag_seconds",
            "Seconds from an event's raw record timestamp (set by its producer) to its processing by a stage: end-to-end lag at the resolver.",
            // 5 ms to 23 hours: the catch-up after an outage is when the
            // quantiles matter (they flattened at 11 minutes).
            prometheus::exponential_buckets(0.005, 2.0, 25).unwrap_or_default(),
            &["stage"],
        );
        let profiles = gauge("kindred_profiles", "Golden records in the resolver store.");
        let outbox_backlog = gauge(
            "kindred_outbox_entries",
            "Outputs written to the resolver store and not yet committed to Kafka.",
        );
        let gauge_vec = |name: &str, help: &str, labels: &[&str]| {
            let g = IntGaugeVec::new(Opts::new(name, help), labels)
                .unwrap_or_else(|e| unreachable!("gauge {name} is well-formed: {e}"));
            registry
                .register(Box::new(g.clone()))
                .unwrap_or_else(|e| unreachable!("gauge {name} is registered once: {e}"));
            g
        };
        let assigned_partitions = gauge_vec(
            "kindred_consumer_assigned_partitions",
            "Partitions of each topic this service's consumer reads that it holds. 0 for a topic on every replica of a service for long: nothing of it is read, and there is no lag series to alert on.",
            &["topic"],
        );
        let store = StoreGauges {
            identifiers: gauge(
                "kindred_identifiers",
                "Identifiers in the resolver's index (RocksDB's estimate).",
            ),
            live_data: gauge(
                "kindred_store_live_data_bytes",
                "Estimated bytes of live data in the resolver store.",
            ),
            pending_compaction: gauge(
                "kindred_store_pending_compaction_bytes",
                "Estimated bytes RocksDB compaction has yet to rewrite; growth means compaction falls behind.",
            ),
            block_cache: gauge(
                "kindred_store_block_cache_usage_bytes",
                "Bytes held in the resolver store's block cache.",
            ),
            write_stopped: gauge(
                "kindred_store_write_stopped",
                "1 while RocksDB stops writes until compaction catches up, else 0.",
            ),
            write_delayed: gauge(
                "kindred_store_write_delayed",
                "1 while RocksDB slows writes down (compaction falling behind), else 0.",
            ),
        };
        let consumer_lag = gauge_vec(
            "kindred_consumer_lag_messages",
            "Messages between the partition's end and the group's committed offset, per assigned partition (librdkafka statistics).",
            &["topic", "partition"],
        );
        let build_info = gauge_vec(
            "kindred_build_info",
            "Always 1; labels carry the build's version.",
            &["version"],
        );
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        // Series of known label values exist from the start (at 0), so a
        // rate or an alert on them has data before the first event.
        for event in ["assigned", "revoked", "failed"] {
            rebalances.with_label_values(&[event]);
        }
        #[cfg(target_os = "linux")]
        {
            // Process metrics (RSS, CPU, fds) under the conventional process_ names.
            let pc = prometheus::process_collector::ProcessCollector::for_self();
            let _ = registry.register(Box::new(pc));
        }
        Metrics {
            registry,
            events_consumed,
            events_produced,
            dead_letters,
            values_dropped,
            profile_changes,
            duplicate_events,
            component_errors,
            merges_refused,
            recomputed_events,
            erasures,
            decision_requests,
            events_suppressed,
            identifiers_quarantined,
            identifiers_marked_shared,
            review_suggestions,
            change_lists_cut,
            batch_duration,
            rebalances,
            skipped_messages,
            transactions,
            outbox_backlog,
            assigned_partitions,
            profiles,
            event_lag,
            consumer_lag,
            store,
            build_info,
        }
    }

    /// Replaces the consumer lag gauges with `lags` (topic, partition,
    /// messages): partitions no longer assigned disappear.
    pub fn set_consumer_lag(&self, lags: &[(String, i32, i64)]) {
        self.consumer_lag.reset();
        for (topic, partition, lag) in lags {
            self.consumer_lag
                .with_label_values(&[topic, &partition.to_string()])
                .set(*lag);
        }
    }

    /// Sets the store gauges.
    pub fn set_store(&self, figures: &StoreFigures) {
        let g = &self.store;
        g.identifiers.set(figures.identifiers as i64);
        g.live_data.set(figures.live_data_bytes as i64);
        g.pending_compaction
            .set(figures.pending_compaction_bytes as i64);
        g.block_cache.set(figures.block_cache_usage_bytes as i64);
        g.write_stopped.set(i64::from(figures.write_stopped));
        g.write_delayed.set(i64::from(figures.write_delayed));
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for the text format.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    pub fn build_info(&self) -> &IntGaugeVec {
        &self.build_info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_conventional_names_and_moves() {
        let m = Metrics::new("test");
        m.dead_letters.with_label_values(&["t", "empty"]).inc();
        m.batch_duration
            .with_label_values(&["ingest"])
            .observe(0.01);
        let text = m.render();
        assert!(
            text.contains(
                "kindred_dead_letters_total{reason=\"empty\",topic=\"t\",service=\"test\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("kindred_build_info"), "{text}");
        assert!(
            text.contains("# TYPE kindred_batch_duration_seconds histogram"),
            "{text}"
        );
        assert!(text.contains("process_resident_memory_bytes"), "{text}");
        assert!(!text.contains("kindred_process_"), "{text}");
    }

    /// The smallest finite bucket of `metric` holding `value`, if any.
    fn bucket_of(m: &Metrics, metric: &str, stage: &str, value: f64) -> Option<f64> {
        let text = m.render();
        let prefix = format!("{metric}_bucket{{");
        text.lines()
            .filter(|l| l.starts_with(&prefix) && l.contains(&format!("stage=\"{stage}\"")))
            .filter_map(|l| {
                let le = l.split("le=\"").nth(1)?.split('"').next()?;
                let count: f64 = l.rsplit(' ').next()?.parse().ok()?;
                let le: f64 = le.parse().ok()?;
                (le.is_finite() && count >= 1.0 && le >= value).then_some(le)
            })
            .reduce(f64::min)
    }

    /// Hours of lag after an outage and a 9-minute batch land in finite
    /// buckets: the lag's top bucket was 655 s, the batch's 16 s, so
    /// every quantile of a catch-up read as the top bucket.
    #[test]
    fn lag_and_batch_buckets_reach_an_outages_catch_up() {
        let m = Metrics::new("test");
        m.event_lag.with_label_values(&["resolve"]).observe(7_200.0);
        m.batch_duration
            .with_label_values(&["resolve"])
            .observe(540.0);
        let lag = bucket_of(&m, "kindred_event_lag_seconds", "resolve", 7_200.0);
        assert!(lag.is_some_and(|le| le < 4.0 * 7_200.0), "{lag:?}");
        let batch = bucket_of(&m, "kindred_batch_duration_seconds", "resolve", 540.0);
        assert!(batch.is_some_and(|le| le < 4.0 * 540.0), "{batch:?}");
    }
}
