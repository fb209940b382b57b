//! What an SRE sees of a running pipeline, checked on a real `kindred load`
//! run against the local broker, with a real Prometheus server scraping it
//! (Debian's `prometheus` package, installed by `deploy/local/setup.sh`):
//!
//! - every service's `/metrics` passes `promtool check metrics`, and its
//!   counters move while events flow;
//! - every query of the Grafana dashboard (`deploy/grafana/kindred.json`)
//!   is valid PromQL and returns data from Prometheus' scrape of the run,
//!   but for metrics that only exist once a rare event happened;
//! - the alert rules (`deploy/prometheus/alerts.yml`) evaluate without
//!   error against the run's series;
//! - JSON logs carry the batch span (topic, partition and offsets);
//! - no raw or normalized phone, email, name, member card or social id of
//!   the run's input appears in any service log at info level.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kindred_model::raw::RawEvent;

const EVENTS: u64 = 6000;
const PEOPLE: u32 = 1500;
const SEED: u64 = 11;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A blocking HTTP/1.0 GET on loopback: (status, body).
fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A port for the test's Prometheus, picked as `kindred load` picks its
/// services' (below the ephemeral range, which a client's connection could
/// take between the pick and the bind).
fn free_port() -> u16 {
    kindred_load::free_port().expect("a free port")
}

fn tool(name: &str) -> PathBuf {
    let path = Path::new("/usr/bin").join(name);
    assert!(
        path.is_file(),
        "{name} is missing: run `bash deploy/local/setup.sh` (it installs Debian's prometheus package)"
    );
    path
}

/// Kills the process when the test ends, however it ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sum of a metric's samples in an exposition whose labels contain all of
/// `labels` (e.g. `topic="..."` pieces).
fn sample_sum(exposition: &str, metric: &str, labels: &[&str]) -> f64 {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let name = series.split('{').next()?;
            (name == metric && labels.iter().all(|want| series.contains(want)))
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

fn promtool_check_metrics(exposition: &str) -> (bool, String) {
    let mut child = Command::new(tool("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(exposition.as_bytes())
        .expect("exposition written to promtool");
    let out = child.wait_with_output().expect("promtool ends");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Every `expr` in the dashboard, with Grafana's `$__rate_interval` as 1m.
fn dashboard_queries() -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("expr", serde_json::Value::String(e)) => out.push(e.clone()),
                        _ => walk(v, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let path = repo().join("deploy/grafana/kindred.json");
    let text = std::fs::read_to_string(&path).expect("the dashboard");
    let json: serde_json::Value = serde_json::from_str(&text).expect("dashboard JSON");
    let mut out = Vec::new();
    walk(&json, &mut out);
    out.into_iter()
        .map(|e| e.replace("$__rate_interval", "1m"))
        .collect()
}

/// Metrics that exist only once something rare happened (a refused merge,
/// a quarantine, an error): a query of them alone may rightly be empty.
const RARE: &[&str] = &[
    "kindred_merges_refused_total",
    "kindred_identifiers_quarantined_total",
    "kindred_identifiers_marked_shared_total",
    "kindred_review_suggestions_total",
    "kindred_component_errors_total",
    "kindred_dead_letters_total",
    "kindred_duplicate_events_total",
];

/// The `result` of an instant query, evaluated at `at` (Prometheus' Unix
/// seconds) or now.
fn prometheus_query(addr: &str, query: &str, at: Option<f64>) -> serde_json::Value {
    let time = at.map(|t| format!("&time={t:.3}")).unwrap_or_default();
    let (status, body) = http_get(
        addr,
        &format!("/api/v1/query?query={}{time}", url_encode(query)),
    )
    .unwrap_or_else(|| panic!("Prometheus answers {query}"));
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(status, 200, "{query}: {body}");
    assert_eq!(json["status"], "success", "{query}: {body}");
    json["data"]["result"].clone()
}

/// The personal data of the run's input: raw and normalized phones,
/// emails, names, member cards and social ids (5 characters or more).
fn personal_data() -> BTreeSet<String> {
    let gen = kindred_gen::GenOptions {
        seed: SEED,
        people: PEOPLE,
        ..kindred_gen::GenOptions::default()
    };
    let (events, _) = kindred_load::generate_at_least(&gen, EVENTS);
    let opts = kindred_normalize::NormalizeOptions::default();
    let mut found = BTreeSet::new();
    for g in &events {
        let raw: Vec<&Option<String>> = match &g.event {
            RawEvent::Pos(p) => vec![&p.phone, &p.customer_name, &p.member_card_no],
            RawEvent::Web(w) => vec![&w.email, &w.phone, &w.name, &w.user_id],
            RawEvent::Social(s) => vec![&s.email, &s.phone, &s.display_name, &s.union_id],
        };
        found.extend(raw.into_iter().flatten().map(|v| v.trim().to_string()));
        if let Ok(event) = kindred_normalize::normalize(&g.event, &opts) {
            found.extend(event.identifiers.iter().map(|i| i.value.clone()));
            found.extend(event.attributes.full_name.clone());
        }
    }
    // Short ASCII values (a till's `Ann`, digits) appear in any log by
    // chance; a name of two hanzi or hangul (most of the generator's
    // customers) does not.
    found.retain(|v| {
        v.chars().count() >= 5
            || (v.chars().count() >= 2 && v.chars().all(|c| !c.is_ascii() && c.is_alphabetic()))
    });
    found
}

#[test]
fn a_load_run_is_observable_and_logs_no_personal_data() {
    let brokers = std::env::var("KINDRED_TEST_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into());
    let promtool = tool("promtool");
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).expect("work dir");
    let load_log = std::fs::File::create(dir.path().join("load.log")).expect("load log");
    let load = Command::new(env!("CARGO_BIN_EXE_kindred"))
        .args(["--brokers", &brokers, "load"])
        .args(["--events", &EVENTS.to_string(), "--rate", "400"])
        .args(["--seed", &SEED.to_string(), "--people", &PEOPLE.to_string()])
        .arg("--work-dir")
        .arg(&work)
        .env("KINDRED_LOG", "info")
        .env("KINDRED_LOG_FORMAT", "json")
        .env("KINDRED_LOG_SPANS", "true")
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::null())
        .stderr(load_log)
        .spawn()
        .expect("kindred load starts");
    let mut load = Guard(load);

    // A Prometheus scraping whatever the run lists in its targets file,
    // every second, with the project's alert rules loaded.
    let targets_file = work.join(kindred_load::SCRAPE_TARGETS_FILE);
    let rules = repo().join("deploy/prometheus/alerts.yml");
    let prom_config = dir.path().join("prometheus.yml");
    std::fs::write(
        &prom_config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files: [\"{}\"]\n\
             scrape_configs:\n  - job_name: kindred\n    file_sd_configs:\n      - files: [\"{}\"]\n        refresh_interval: 1s\n",
            rules.display(),
            targets_file.display()
        ),
    )
    .expect("prometheus.yml");
    let check = Command::new(&promtool)
        .args(["check", "config"])
        .arg(&prom_config)
        .output()
        .expect("promtool check config");
    assert!(check.status.success(), "{check:?}");
    let prom_addr = format!("127.0.0.1:{}", free_port());
    let prometheus = Command::new(tool("prometheus"))
        .arg(format!("--config.file={}", prom_config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address={prom_addr}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("prometheus.log")).expect("log"))
        .spawn()
        .expect("prometheus starts");
    let _prometheus = Guard(prometheus);

    // The services are up once the run lists them.
    let deadline = Instant::now() + Duration::from_secs(180);
    while !targets_file.is_file() {
        assert!(
            Instant::now() < deadline,
            "the load run never listed its services"
        );
        if let Ok(Some(status)) = load.0.try_wait() {
            panic!(
                "kindred load ended early ({status}): {}",
                std::fs::read_to_string(dir.path().join("load.log")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let targets: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&targets_file).expect("targets"))
            .expect("targets JSON");
    let services: BTreeMap<String, String> = targets
        .as_array()
        .expect("target groups")
        .iter()
        .map(|g| {
            (
                g["labels"]["process"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                g["targets"][0].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        services.keys().map(String::as_str).collect::<Vec<_>>(),
        ["ingest-pos", "ingest-social", "ingest-web", "resolve"]
    );
    let scrape = |addr: &str| {
        let (status, body) = http_get(addr, "/metrics").expect("/metrics answers");
        assert_eq!(status, 200);
        body
    };
    for addr in services.values() {
        assert_eq!(http_get(addr, "/healthz").map(|r| r.0), Some(200));
        assert_eq!(http_get(addr, "/readyz").map(|r| r.0), Some(200));
    }
    let first: BTreeMap<&String, String> = services.iter().map(|(n, a)| (n, scrape(a))).collect();

    // Let events flow for a while (400 per second), then scrape again.
    let resolve_addr = &services["resolve"];
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let text = scrape(resolve_addr);
        let consumed = sample_sum(&text, "kindred_events_consumed_total", &[]);
        let lag_series = sample_sum(&text, "kindred_event_lag_seconds_count", &[]);
        if consumed >= 2000.0 && lag_series > 0.0 && text.contains("kindred_consumer_lag_messages{")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the resolver consumed too little: {text}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let second: BTreeMap<&String, String> = services.iter().map(|(n, a)| (n, scrape(a))).collect();
    for (name, text) in &second {
        let (ok, out) = promtool_check_metrics(text);
        assert!(ok, "promtool check metrics on {name}: {out}\n{text}");
        let moved = |metric: &str, labels: &[&str]| {
            let (a, b) = (
                sample_sum(&first[name], metric, labels),
                sample_sum(text, metric, labels),
            );
            assert!(b > a, "{name}: {metric}{labels:?} did not move: {a} -> {b}");
        };
        moved("kindred_events_consumed_total", &[]);
        moved("kindred_events_produced_total", &[]);
        moved("kindred_batch_duration_seconds_count", &[]);
        moved("kindred_event_lag_seconds_count", &[]);
        assert!(
            text.contains("kindred_consumer_lag_messages{"),
            "{name}: no lag gauge"
        );
        assert!(text.contains("kindred_build_info{"), "{name}");
        assert!(text.contains("process_resident_memory_bytes{"), "{name}");
    }
    let resolve = &second[&"resolve".to_string()];
    assert!(sample_sum(resolve, "kindred_profiles", &[]) > 0.0);
    assert!(sample_sum(resolve, "kindred_identifiers", &[]) > 0.0);
    assert!(
        sample_sum(
            resolve,
            "kindred_transactions_total",
            &["result=\"committed\""]
        ) > sample_sum(
            &first[&"resolve".to_string()],
            "kindred_transactions_total",
            &["result=\"committed\""]
        )
    );
    for gauge in [
        "kindred_store_live_data_bytes",
        "kindred_store_pending_compaction_bytes",
        "kindred_store_block_cache_usage_bytes",
        "kindred_store_write_stopped",
        "kindred_store_write_delayed",
        "kindred_outbox_entries",
    ] {
        assert!(resolve.contains(&format!("{gauge}{{")), "no {gauge}");
    }

    // The dashboard's queries against Prometheus' scrape of the run.
    // The queries are evaluated at one instant while all 4 services ran
    // (3 s after the first such scrape: rates need a few), so that the
    // end of the load run (the services stop, their series go stale)
    // cannot empty them on a slow machine.
    let deadline = Instant::now() + Duration::from_secs(60);
    let all_up_at = loop {
        let up = prometheus_query(&prom_addr, "sum(up{job=\"kindred\"})", None);
        let value = &up[0]["value"];
        if let (Some("4"), Some(at)) = (value[1].as_str(), value[0].as_f64()) {
            break at;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never scraped the 4 services"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let at = all_up_at + 3.0;
    std::thread::sleep(Duration::from_secs(4));
    let queries = dashboard_queries();
    assert!(queries.len() >= 15, "{queries:?}");
    let mut empty = Vec::new();
    for q in &queries {
        let result = prometheus_query(&prom_addr, q, Some(at));
        if result.as_array().is_none_or(Vec::is_empty) {
            empty.push(q.clone());
        }
    }
    for q in &empty {
        // A rare event's series may be missing; a query with a fallback
        // (`or on (service) (0 * ...)`, a zero line) is never empty.
        assert!(
            RARE.iter().any(|m| q.contains(m)) && !q.contains(" or "),
            "dashboard query returned no data: {q}\n(all empty: {empty:#?})"
        );
    }
    eprintln!(
        "dashboard: {} of {} queries returned data; empty (rare events): {empty:#?}",
        queries.len() - empty.len(),
        queries.len()
    );
    let (_, body) = http_get(&prom_addr, "/api/v1/rules").expect("rules");
    let rules: serde_json::Value = serde_json::from_str(&body).expect("rules JSON");
    let mut evaluated = 0;
    for group in rules["data"]["groups"].as_array().expect("rule groups") {
        for rule in group["rules"].as_array().expect("rules") {
            assert_eq!(rule["health"], "ok", "{rule}");
            evaluated += 1;
        }
    }
    assert!(evaluated >= 5, "{body}");

    // The run ends well.
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(status) = load.0.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "kindred load did not finish");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(dir.path().join("load.log")).unwrap_or_default()
    );

    // Logs: JSON with the batch span; no personal data.
    let mut logs = String::new();
    for name in services.keys() {
        let text = std::fs::read_to_string(work.join(format!("{name}.log"))).expect("service log");
        for line in text.lines() {
            let parsed: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{name}: a log line is not JSON ({e}): {line}"));
            assert!(parsed["level"].is_string(), "{line}");
        }
        logs.push_str(&text);
    }
    let in_batch: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("\"name\":\"batch\""))
        .collect();
    assert!(
        in_batch
            .iter()
            .any(|l| l.contains("\"offsets\":") && l.contains("\"topic\":")),
        "no log line carries the batch span's topic and offsets"
    );
    eprintln!(
        "logs: {} lines, {} in a batch span",
        logs.lines().count(),
        in_batch.len()
    );
    let pii = personal_data();
    assert!(
        pii.len() > 1000,
        "too little personal data to look for: {}",
        pii.len()
    );
    let leaked: Vec<&String> = pii.iter().filter(|v| logs.contains(v.as_str())).collect();
    assert!(
        leaked.is_empty(),
        "{} personal values appear in the service logs, e.g. {:?}",
        leaked.len(),
        leaked.iter().take(5).collect::<Vec<_>>()
    );
}
