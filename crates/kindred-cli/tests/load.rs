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
    let (ok, text) = common::kindred(&[
        "--brokers",
        &brokers,
        "load",
        "--events",
        "3000",
        "--rate",
        "2000",
        "--json",
        &json_path,
        "--work-dir",
        &work,
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("end-to-end latency"), "{text}");

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("the JSON result")).expect("JSON");
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
}
