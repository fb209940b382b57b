//! The short version of `kindred chaos` (the long one is
//! `deploy/local/chaos.sh`): the pipeline as real processes against the
//! real broker, with the resolver killed twice, an ingest instance killed,
//! the broker restarted and the resolver and an ingest stopped by SIGTERM; the result must
//! equal an uninterrupted run, and the profile topic must hold every
//! version exactly once.

mod common;

/// The runs restart the broker: one at a time.
static BROKER: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn crashes_restarts_and_a_broker_restart_lose_nothing_and_apply_nothing_twice() {
    chaos("classic");
}

/// The same under KIP-848's consumer group protocol, where a killed
/// resolver's restart gets its partitions only when the broker ends the
/// dead process's session.
#[test]
fn the_same_under_the_consumer_group_protocol() {
    chaos("consumer");
}

fn chaos(group_protocol: &str) {
    let _one_at_a_time = BROKER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let protocol = format!("kafka.group_protocol={group_protocol}");
    let brokers = std::env::var("KINDRED_TEST_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into());
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("chaos.json");
    let (json_path, work) = (
        json.display().to_string(),
        dir.path().join("work").display().to_string(),
    );
    // The broker this project's script started on the test brokers' port
    // (`KAFKA_PORT`, as deploy/local/test.sh sets it) is restarted; the
    // test does not pass without the restart it is named for.
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local/kafka.sh");
    let port = ["127.0.0.1:", "localhost:"]
        .iter()
        .find_map(|host| brokers.strip_prefix(host))
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| {
            panic!(
                "KINDRED_TEST_BROKERS={brokers}: the chaos test restarts the broker, so it needs \
                 the one deploy/local/kafka.sh starts on loopback (127.0.0.1:PORT)"
            )
        })
        .to_string();
    let ours = std::process::Command::new("bash")
        .arg(&script)
        .arg("status")
        .env("KAFKA_PORT", &port)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ours,
        "no broker of deploy/local/kafka.sh runs on port {port} (KAFKA_PORT={port} bash {} status): \
         the chaos test restarts the broker, so it needs that one",
        script.display()
    );
    let restart = format!("env KAFKA_PORT={port} bash {} restart", script.display());
    let mut args = vec![
        "--brokers",
        &brokers,
        "--set",
        &protocol,
        "chaos",
        "--events",
        "20000",
        "--rate",
        "2000",
        "--resolver-kills",
        "2",
        "--json",
        &json_path,
        "--work-dir",
        &work,
    ];
    args.extend(["--broker-restart", &restart]);
    let (ok, text) = common::kindred(&args);
    if !ok {
        // Keep the services' logs and the run's files for a post-mortem.
        let kept = dir.keep();
        panic!("{text}\nthe run's files are kept in {}", kept.display());
    }

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("the JSON report")).expect("JSON");
    let faults: Vec<&str> = report["faults"]
        .as_array()
        .expect("faults")
        .iter()
        .filter_map(|f| f["what"].as_str())
        .collect();
    let count = |what: &str| faults.iter().filter(|f| **f == what).count();
    assert_eq!(count("kill -9 resolve"), 2, "{report:#}");
    assert_eq!(count("kill -9 ingest"), 1, "{report:#}");
    assert_eq!(count("SIGTERM resolve"), 1, "{report:#}");
    assert_eq!(count("SIGTERM ingest"), 1, "{report:#}");
    assert_eq!(count("broker restart"), 1, "{report:#}");
    // A stop ends within the shutdown timeout (the watchdog's forced exit
    // at the latest), give or take 2 s for the process to go.
    let limit = report["shutdown_timeout_secs"].as_f64().expect("timeout") + 2.0;
    for service in ["resolve", "ingest-web"] {
        let exit = report["sigterm_exit_seconds"][service]
            .as_f64()
            .expect("SIGTERM timed");
        assert!(
            exit <= limit,
            "{service} took {exit} s to exit after SIGTERM (limit {limit} s)"
        );
    }
    let n = |key: &str| report[key].as_u64().unwrap_or(u64::MAX);
    assert!(n("store_people") > 1000, "{report:#}");
    assert_eq!(n("store_people"), n("reference_people"), "{report:#}");
    for key in [
        "people_missing",
        "people_extra",
        "records_different",
        "outbox_left",
        "version_gaps",
        "version_duplicates",
        "topic_mismatches",
    ] {
        assert_eq!(n(key), 0, "{key}: {report:#}");
    }
    assert_eq!(
        report["points_store"], report["points_reference"],
        "{report:#}"
    );
    assert_eq!(report["offsets_at_end"], true, "{report:#}");
    assert_eq!(report["passed"], true, "{report:#}");
    // The services ran under the protocol asked for (the run hands its
    // --set to them).
    for service in ["resolve", "ingest-web"] {
        let log = std::fs::read_to_string(dir.path().join("work").join(format!("{service}.log")))
            .expect("the service's log");
        assert!(
            log.contains(&format!("group_protocol={group_protocol}")),
            "{service} did not start under {group_protocol}"
        );
    }
}
