//! `kindred load` against the real broker (`deploy/local/kafka.sh start`):
//! the services run as separate processes and every event is accounted for.

mod common;

#[test]
fn load_accounts_for_every_event_and_measures_each_service() {
    let brokers = std::env::var("KINDRED_TEST_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into());
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("load.json");
    let (json_path, work) = (
        json.display().to_string(),
        dir.path().join("work").display().to_string(),
    );
    // The services' stop gets 25 s (the load tool waits 30): a loaded
    // machine's flushes must not run into the watchdog (exit 75) before
    // the store is flushed, which this test checks at the end.
    let (ok, text) = common::kindred_with_env(
        &[
            "--brokers",
            &brokers,
            "--set",
            "ingest.batch_size=400",
            "load",
            "--events",
            "3000",
            "--rate",
            "2000",
            "--json",
            &json_path,
            "--work-dir",
            &work,
            "--keep-topics",
        ],
        &[("KINDRED_SHUTDOWN__TIMEOUT_SECS", "25")],
    );
    assert!(ok, "{text}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("the JSON result")).expect("JSON");
    // The run's topics are kept; they go when the test ends, passed or not.
    let topics: Vec<String> = report["topics"]
        .as_object()
        .expect("topics")
        .values()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    let _topics = KeptTopics {
        brokers: brokers.clone(),
        names: topics,
    };
    assert!(text.contains("end-to-end latency"), "{text}");

    let n = |key: &str| report[key].as_u64().unwrap_or(u64::MAX);
    assert_eq!(n("produced"), 3000, "{report:#}");
    // Every distinct event either reached a profile or the dead-letter topic.
    assert_eq!(n("missing"), 0, "{report:#}");
    assert_eq!(
        n("landed") + n("dead_letters"),
        n("distinct_events"),
        "{report:#}"
    );
    // One latency sample per landed event, in a plausible order.
    let latency = &report["latency"];
    assert_eq!(latency["samples"].as_u64(), Some(n("landed")));
    let ms = |k: &str| latency[k].as_f64().unwrap_or(-1.0);
    assert!(0.0 < ms("p50_ms") && ms("p50_ms") <= ms("p99_ms") && ms("p99_ms") <= ms("max_ms"));
    // Four service processes, each measured and stopped cleanly by SIGTERM.
    let services = report["services"].as_array().expect("services");
    let names: Vec<&str> = services.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(
        names,
        ["ingest-pos", "ingest-web", "ingest-social", "resolve"]
    );
    for s in services {
        assert!(s["peak_rss_bytes"].as_u64().unwrap_or(0) > 1 << 20, "{s}");
        assert_eq!(s["exit"], "exit status: 0", "{s}");
    }
    // Lag was sampled for the four consumer groups, and the accuracy covers
    // every landed event.
    assert_eq!(report["max_lag"].as_object().map(|m| m.len()), Some(4));
    assert!(!report["samples"].as_array().expect("samples").is_empty());
    assert_eq!(report["accuracy"]["records"].as_u64(), Some(n("landed")));
    // Each service wrote its log to the work directory.
    for name in names {
        assert!(dir
            .path()
            .join("work")
            .join(format!("{name}.log"))
            .is_file());
    }

    // The resolver, stopped cleanly, flushed its store: no write-ahead log
    // is left for its next start to replay.
    let log_bytes: u64 = std::fs::read_dir(dir.path().join("work").join("resolver"))
        .expect("the resolver's store")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    assert!(log_bytes < 16 << 10, "{log_bytes} bytes of log left");

    // The kept topics are named; `kindred eval` reads the run's profile
    // topic as the load run did, scores it against the truth the run left
    // in its work directory, and writes every landed event's profile.
    let profiles = report["topics"]["profiles"]
        .as_str()
        .expect("profile topic");
    assert!(
        text.contains(&format!(
            "--set 'ingest.batch_size=400' --brokers {brokers} --set topics.profiles={profiles} eval --profile-topic"
        )),
        "{text}"
    );
    // The report keeps the run's --set (its services were given it too).
    assert_eq!(
        report["overrides"],
        serde_json::json!(["ingest.batch_size=400"]),
        "{report:#}"
    );
    let truth = report["truth_file"].as_str().expect("truth file");
    let assignments = dir.path().join("assignments.csv");
    let (ok, eval_text) = common::kindred(&[
        "--brokers",
        &brokers,
        "--set",
        &format!("topics.profiles={profiles}"),
        "eval",
        "--profile-topic",
        "--truth",
        truth,
        "--assignments",
        &assignments.display().to_string(),
        "--json",
    ]);
    assert!(ok, "{eval_text}");
    // Standard output (the JSON report) comes first, then the log lines.
    let eval: serde_json::Value = serde_json::Deserializer::from_str(&eval_text)
        .into_iter()
        .next()
        .and_then(Result::ok)
        .expect("eval --json prints a JSON report first");
    for key in [
        "records",
        "profiles",
        "persons",
        "true_pairs",
        "predicted_pairs",
        "correct_pairs",
        "over_merged_profiles",
        "under_merged_persons",
    ] {
        assert_eq!(eval[key], report["accuracy"][key], "{key}: {eval_text}");
    }
    // The persons the stream holds, not the generator's setting before the
    // stream was cut to --events.
    assert_eq!(
        report["persons"], report["accuracy"]["persons"],
        "{report:#}"
    );
    // B-cubed sums per-record fractions: the same up to the order of the sum.
    let bcubed_f1 = |r: &serde_json::Value| r["bcubed"]["f1"].as_f64().unwrap_or(-1.0);
    assert!((bcubed_f1(&eval) - bcubed_f1(&report["accuracy"])).abs() < 1e-9);
    let csv = std::fs::read_to_string(&assignments).expect("assignments");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("event_id,profile_id"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len() as u64, n("landed"), "{csv}");
    assert!(rows
        .iter()
        .all(|r| r.split(',').nth(1).is_some_and(|p| p.starts_with("kp-"))));
}

/// A load run's kept topics, deleted when dropped.
struct KeptTopics {
    brokers: String,
    names: Vec<String>,
}

impl Drop for KeptTopics {
    fn drop(&mut self) {
        let deleted = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|runtime| {
                runtime
                    .block_on(kindred_kafka::delete_topics(
                        &kindred_kafka::KafkaSettings::new(self.brokers.clone()),
                        &self.names,
                    ))
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = deleted {
            eprintln!("could not delete the load run's topics: {e}");
        }
    }
}
