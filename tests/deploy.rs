//! The deployment files in deploy/ hold together: the Prometheus alert rules
//! are valid and their unit tests pass (promtool), each alert has a runbook
//! section, the sample configurations load, the Kubernetes manifests probe,
//! mount and scrape what the configurations say, and the Grafana dashboard
//! queries only metrics the services export. No broker needed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use kindred_config::Config;
use serde_yaml_ng::Value as Yaml;

/// Every metric a kindred service exports (besides `process_*` and
/// Prometheus' own `up`). Histograms are listed by base name.
const METRICS: &[&str] = &[
    "kindred_events_consumed_total",
    "kindred_events_produced_total",
    "kindred_dead_letters_total",
    "kindred_values_dropped_total",
    "kindred_profile_changes_total",
    "kindred_duplicate_events_total",
    "kindred_component_errors_total",
    "kindred_merges_refused_total",
    "kindred_identifiers_quarantined_total",
    "kindred_identifiers_marked_shared_total",
    "kindred_erasures_total",
    "kindred_decision_requests_total",
    "kindred_events_suppressed_total",
    "kindred_review_suggestions_total",
    "kindred_consumer_rebalances_total",
    "kindred_consumer_skipped_messages_total",
    "kindred_transactions_total",
    "kindred_resolver_recomputed_events_total",
    "kindred_profile_change_lists_cut_total",
    "kindred_consumer_lag_messages",
    "kindred_outbox_entries",
    "kindred_consumer_assigned_partitions",
    "kindred_profiles",
    "kindred_identifiers",
    "kindred_store_live_data_bytes",
    "kindred_store_pending_compaction_bytes",
    "kindred_store_block_cache_usage_bytes",
    "kindred_store_write_stopped",
    "kindred_store_write_delayed",
    "kindred_build_info",
];

const HISTOGRAMS: &[&str] = &[
    "kindred_batch_duration_seconds",
    "kindred_event_lag_seconds",
];

/// The services and the sample configuration each runs with.
const SERVICES: &[(&str, &str)] = &[
    ("ingest-pos", "ingest-pos.toml"),
    ("ingest-web", "ingest-web.toml"),
    ("ingest-social", "ingest-social.toml"),
    ("resolve", "resolve.toml"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    let path = root().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Runs promtool in the repository root and returns its output; fails (never
/// skips) when promtool is missing.
fn promtool(args: &[&str]) -> String {
    let output = match Command::new("promtool")
        .args(args)
        .current_dir(root())
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "promtool is not installed: run `bash deploy/local/setup.sh` \
             (it installs Debian's prometheus package, which has promtool)"
        ),
        Err(e) => panic!("cannot run promtool: {e}"),
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "promtool {} failed:\n{text}",
        args.join(" ")
    );
    text
}

/// Configuration loading reads the process environment, which one test
/// changes: they take turns.
fn env_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn load_sample(file: &str) -> Config {
    let path = root().join("deploy/config").join(file);
    Config::load(Some(&path), serde_json::json!({}))
        .unwrap_or_else(|e| panic!("deploy/config/{file} does not load: {e}"))
}

/// The YAML documents of a file (`---`-separated), comment-only ones left out.
fn yaml_docs(path: &str) -> Vec<Yaml> {
    let text = read(path);
    let mut docs = Vec::new();
    let mut chunk = String::new();
    for line in text.lines().chain(std::iter::once("---")) {
        if line.trim_end() == "---" {
            let doc: Yaml = serde_yaml_ng::from_str(&chunk)
                .unwrap_or_else(|e| panic!("{path} is not valid YAML: {e}"));
            if !doc.is_null() {
                docs.push(doc);
            }
            chunk.clear();
        } else {
            chunk.push_str(line);
            chunk.push('\n');
        }
    }
    docs
}

fn str_of<'a>(v: &'a Yaml, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what}: expected a string, found {v:?}"))
}

fn seq_of<'a>(v: &'a Yaml, what: &str) -> &'a [Yaml] {
    v.as_sequence()
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("{what}: expected a list, found {v:?}"))
}

// --- Prometheus alerts -------------------------------------------------------

#[test]
fn alert_rules_pass_promtool_check() {
    let out = promtool(&["check", "rules", "deploy/prometheus/alerts.yml"]);
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn alert_rules_pass_their_promtool_unit_tests() {
    let out = promtool(&["test", "rules", "deploy/prometheus/alerts.test.yml"]);
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn every_alert_has_severity_runbook_section_and_a_firing_and_a_quiet_test() {
    let rules = &yaml_docs("deploy/prometheus/alerts.yml")[0];
    let groups = seq_of(&rules["groups"], "groups");
    let group = groups
        .iter()
        .find(|g| g["name"].as_str() == Some("kindred"))
        .expect("alerts.yml has a rule group named kindred");
    let runbook = read("docs/operations.md");
    let headings: BTreeSet<&str> = runbook
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(str::trim)
        .collect();

    // Alert name -> (tested firing, tested quiet).
    let tests = &yaml_docs("deploy/prometheus/alerts.test.yml")[0];
    let mut tested: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for case in seq_of(&tests["tests"], "tests") {
        for check in seq_of(&case["alert_rule_test"], "alert_rule_test") {
            let name = str_of(&check["alertname"], "alertname").to_string();
            let fires = !seq_of(&check["exp_alerts"], "exp_alerts").is_empty();
            let entry = tested.entry(name).or_default();
            if fires {
                entry.0 = true;
            } else {
                entry.1 = true;
            }
        }
    }

    let mut names = Vec::new();
    for rule in seq_of(&group["rules"], "rules") {
        let name = str_of(&rule["alert"], "alert");
        names.push(name);
        let severity = str_of(&rule["labels"]["severity"], name);
        assert!(
            ["critical", "warning", "info"].contains(&severity),
            "{name}: severity {severity}"
        );
        for key in ["summary", "description"] {
            assert!(
                !str_of(&rule["annotations"][key], name).is_empty(),
                "{name}: no {key}"
            );
        }
        let url = str_of(&rule["annotations"]["runbook_url"], name);
        assert_eq!(
            url,
            format!("docs/operations.md#{}", name.to_lowercase()),
            "{name}: runbook_url must point at its section"
        );
        assert!(
            headings.contains(name),
            "docs/operations.md has no section `### {name}` (the anchor of {name}'s runbook_url)"
        );
        let expr = str_of(&rule["expr"], name);
        check_metric_names(expr, &format!("alert {name}"));
        match tested.get(name) {
            Some((true, true)) => {}
            other => panic!(
                "alerts.test.yml must test {name} both firing and quiet (exp_alerts empty); found {other:?}"
            ),
        }
    }
    for name in tested.keys() {
        assert!(
            names.contains(&name.as_str()),
            "alerts.test.yml tests {name}, which alerts.yml does not define"
        );
    }
}

// --- Sample configurations ----------------------------------------------------

#[test]
fn sample_configs_load_and_agree_on_the_cluster_topics_and_schema_ids() {
    let _env = env_lock();
    let dir = root().join("deploy/config");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("deploy/config exists")
        .map(|e| {
            e.expect("readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    let mut expected: Vec<String> = SERVICES.iter().map(|(_, f)| f.to_string()).collect();
    expected.sort();
    assert_eq!(
        files, expected,
        "deploy/config holds one sample per service"
    );

    let configs: Vec<(&str, Config)> = SERVICES
        .iter()
        .map(|(_, file)| (*file, load_sample(file)))
        .collect();
    let (first_file, first) = &configs[0];
    for (file, config) in &configs {
        assert_eq!(
            config.http.listen, "0.0.0.0:9464",
            "{file}: listen on every interface, for the probes and the scrape"
        );
        // Services talk through these: they must agree.
        let same = |what: &str, a: String, b: String| {
            assert_eq!(a, b, "{file} and {first_file} differ in {what}");
        };
        same(
            "kafka.brokers",
            config.kafka.brokers.clone(),
            first.kafka.brokers.clone(),
        );
        same(
            "kafka.group_prefix",
            config.kafka.group_prefix.clone(),
            first.kafka.group_prefix.clone(),
        );
        same(
            "kafka.client",
            format!("{:?}", config.kafka.client),
            format!("{:?}", first.kafka.client),
        );
        same(
            "schemas.ids",
            format!("{:?}", config.schemas.ids),
            format!("{:?}", first.schemas.ids),
        );
        // The resolver reads erasure requests' identifiers (and the admin
        // commands' `kind:value`) as ingest read them in events: a
        // different reading makes another index key, and `not_found`.
        let identifier_reading = |c: &Config| {
            let n = &c.normalize;
            format!(
                "{:?}",
                (
                    &n.default_region,
                    &n.default_loyalty_program,
                    n.email_provider_rules
                )
            )
        };
        same(
            "normalize (default_region, default_loyalty_program, email_provider_rules)",
            identifier_reading(config),
            identifier_reading(first),
        );
        let names = |c: &Config| {
            let t = &c.topics;
            format!(
                "{:?}",
                [
                    &t.pos,
                    &t.web,
                    &t.social,
                    &t.canonical,
                    &t.profiles,
                    &t.dead_letter,
                    &t.review,
                    &t.quarantine,
                    &t.progress
                ]
            )
        };
        same("topic names", names(config), names(first));
    }
    let resolve = &configs[3].1;
    assert!(resolve.resolver.data_dir.is_absolute());
    let snapshots = resolve
        .resolver
        .snapshot_dir
        .as_ref()
        .expect("resolve.toml sets resolver.snapshot_dir");
    assert_eq!(
        snapshots.parent(),
        resolve.resolver.data_dir.parent(),
        "snapshots on the store's volume (checkpoints hard-link its files)"
    );
}

// --- Kubernetes manifests -------------------------------------------------------

/// Every object in deploy/k8s, with the file it came from.
fn manifests() -> Vec<(String, Yaml)> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("deploy/k8s"))
        .expect("deploy/k8s exists")
        .map(|e| {
            e.expect("readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|f| f.ends_with(".yaml") && f != "kustomization.yaml")
        .collect();
    files.sort();
    files
        .into_iter()
        .flat_map(|f| {
            yaml_docs(&format!("deploy/k8s/{f}"))
                .into_iter()
                .map(move |d| (f.clone(), d))
        })
        .collect()
}

fn kind(doc: &Yaml) -> &str {
    doc["kind"].as_str().unwrap_or("")
}

fn name(doc: &Yaml) -> &str {
    doc["metadata"]["name"].as_str().unwrap_or("")
}

/// Whether `labels` has every key/value of `selector`.
fn selects(selector: &Yaml, labels: &Yaml) -> bool {
    selector
        .as_mapping()
        .is_some_and(|m| !m.is_empty() && m.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

/// The `--config` file a container runs with and the directory it is
/// mounted in, checked against the ConfigMap: returns the file's name.
fn config_file_of(container: &Yaml, pod: &Yaml, configmap: &Yaml, what: &str) -> String {
    let args: Vec<&str> = seq_of(&container["args"], what)
        .iter()
        .map(|a| str_of(a, what))
        .collect();
    let at = args
        .iter()
        .position(|a| *a == "--config")
        .unwrap_or_else(|| panic!("{what}: no --config in {args:?}"));
    let path = Path::new(args[at + 1]);
    let file = path
        .file_name()
        .expect("--config names a file")
        .to_string_lossy()
        .into_owned();
    assert!(
        configmap["data"].get(file.as_str()).is_some(),
        "{what}: --config {} is not in ConfigMap {}",
        path.display(),
        name(configmap)
    );
    // The directory is a mount of a volume holding the ConfigMap.
    let dir = path.parent().expect("--config has a directory");
    let mount = seq_of(&container["volumeMounts"], what)
        .iter()
        .find(|m| Path::new(str_of(&m["mountPath"], what)) == dir)
        .unwrap_or_else(|| panic!("{what}: nothing mounted at {}", dir.display()));
    let volume_name = str_of(&mount["name"], what);
    let volume = seq_of(&pod["volumes"], what)
        .iter()
        .find(|v| v["name"].as_str() == Some(volume_name))
        .unwrap_or_else(|| panic!("{what}: no volume {volume_name}"));
    let sources: Vec<&Yaml> = match volume["projected"]["sources"].as_sequence() {
        Some(sources) => sources.iter().map(|s| &s["configMap"]).collect(),
        None => vec![&volume["configMap"]],
    };
    assert!(
        sources
            .iter()
            .any(|c| c["name"].as_str() == Some(name(configmap))),
        "{what}: volume {volume_name} at {} does not hold ConfigMap {}",
        dir.display(),
        name(configmap)
    );
    file
}

/// The port number a probe or scrape refers to (by name or number).
fn container_port(container: &Yaml, port: &Yaml, what: &str) -> u64 {
    if let Some(n) = port.as_u64() {
        return n;
    }
    let port_name = str_of(port, what);
    seq_of(&container["ports"], what)
        .iter()
        .find(|p| p["name"].as_str() == Some(port_name))
        .and_then(|p| p["containerPort"].as_u64())
        .unwrap_or_else(|| panic!("{what}: no container port named {port_name}"))
}

#[test]
fn kustomization_lists_every_manifest_but_the_service_monitor() {
    let kustomization = &yaml_docs("deploy/k8s/kustomization.yaml")[0];
    let listed: BTreeSet<&str> = seq_of(&kustomization["resources"], "resources")
        .iter()
        .map(|r| str_of(r, "resource"))
        .collect();
    let files: BTreeSet<String> = manifests().into_iter().map(|(f, _)| f).collect();
    for f in &files {
        if f == "servicemonitor.yaml" {
            assert!(
                !listed.contains(f.as_str()),
                "the ServiceMonitor needs the operator's CRD: apply it apart"
            );
        } else {
            assert!(
                listed.contains(f.as_str()),
                "kustomization.yaml does not list {f}"
            );
        }
    }
    for l in &listed {
        assert!(
            files.contains(*l),
            "kustomization.yaml lists {l}, which does not exist"
        );
    }
}

#[test]
fn k8s_workloads_probe_mount_and_scrape_what_their_config_says() {
    let _env = env_lock();
    let docs = manifests();
    let configmaps: Vec<&Yaml> = docs
        .iter()
        .map(|(_, d)| d)
        .filter(|d| kind(d) == "ConfigMap")
        .collect();
    assert_eq!(configmaps.len(), 1, "one ConfigMap with the four files");
    let configmap = configmaps[0];

    // The ConfigMap holds exactly deploy/config's files, unchanged.
    let data = configmap["data"].as_mapping().expect("ConfigMap data");
    let keys: BTreeSet<&str> = data.keys().map(|k| str_of(k, "ConfigMap key")).collect();
    let files: BTreeSet<&str> = SERVICES.iter().map(|(_, f)| *f).collect();
    assert_eq!(keys, files, "ConfigMap keys");
    for file in files {
        let embedded = str_of(&configmap["data"][file], file);
        let original = read(&format!("deploy/config/{file}"));
        assert!(
            embedded == original,
            "deploy/k8s/configmap.yaml's {file} differs from deploy/config/{file}: copy the file into the ConfigMap (indented by 4 spaces)"
        );
    }

    let mut services_seen = BTreeSet::new();
    for (file, doc) in &docs {
        let kind = kind(doc);
        if !["Deployment", "StatefulSet", "Job"].contains(&kind) {
            continue;
        }
        let what = format!("{file}: {kind} {}", name(doc));
        let pod = &doc["spec"]["template"]["spec"];
        let containers = seq_of(&pod["containers"], &what);
        assert_eq!(containers.len(), 1, "{what}: one container");
        let container = &containers[0];
        assert_eq!(
            container["image"].as_str(),
            Some("kindred:0.1.0"),
            "{what}: image"
        );
        let config_file = config_file_of(container, pod, configmap, &what);
        let config = load_sample(&config_file);

        // Non-root, read-only root filesystem.
        let run_as_non_root = pod["securityContext"]["runAsNonRoot"].as_bool() == Some(true)
            || container["securityContext"]["runAsNonRoot"].as_bool() == Some(true);
        assert!(run_as_non_root, "{what}: runAsNonRoot");
        assert_eq!(
            container["securityContext"]["readOnlyRootFilesystem"].as_bool(),
            Some(true),
            "{what}: readOnlyRootFilesystem"
        );

        // The Kafka password reaches kafka.client from the Secret.
        let from_secrets = check_secret_env(container, &config_file, &what);
        assert!(
            from_secrets.contains("sasl.password"),
            "{what}: no KINDRED_KAFKA_CLIENT_SASL_PASSWORD from the Secret kindred-kafka (on a secured cluster the pod has no password)"
        );

        if kind == "Job" {
            continue;
        }
        let args: Vec<&str> = seq_of(&container["args"], &what)
            .iter()
            .map(|a| str_of(a, &what))
            .collect();
        let service = match args[0] {
            "ingest" => {
                let at = args
                    .iter()
                    .position(|a| *a == "--channel")
                    .expect("--channel");
                format!("ingest-{}", args[at + 1])
            }
            other => other.to_string(),
        };
        assert_eq!(
            config_file,
            format!("{service}.toml"),
            "{what}: runs {service} with another service's config"
        );
        services_seen.insert(service.clone());

        // Probes and scrape on the port the service listens on.
        let (host, port) = config
            .http
            .listen
            .rsplit_once(':')
            .expect("http.listen is host:port");
        assert_eq!(host, "0.0.0.0", "{what}: the kubelet probes the pod's IP");
        let port: u64 = port.parse().expect("numeric port");
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            let get = &container[probe]["httpGet"];
            assert_eq!(get["path"].as_str(), Some(path), "{what}: {probe} path");
            assert_eq!(
                container_port(container, &get["port"], &what),
                port,
                "{what}: {probe} port"
            );
        }
        if !container["startupProbe"].is_null() {
            let get = &container["startupProbe"]["httpGet"];
            // Not /readyz: unready while a large outbox drains, it would
            // have a healthy resolver killed before it is ever ready.
            assert_eq!(
                get["path"].as_str(),
                Some("/startedz"),
                "{what}: startupProbe path"
            );
            assert_eq!(
                container_port(container, &get["port"], &what),
                port,
                "{what}: startupProbe port"
            );
        }
        let annotations = &doc["spec"]["template"]["metadata"]["annotations"];
        assert_eq!(
            annotations["prometheus.io/scrape"].as_str(),
            Some("true"),
            "{what}"
        );
        assert_eq!(
            annotations["prometheus.io/port"].as_str(),
            Some(port.to_string().as_str()),
            "{what}: scrape port"
        );
        assert_eq!(
            annotations["prometheus.io/path"].as_str(),
            Some("/metrics"),
            "{what}"
        );

        // Graceful shutdown fits in the grace period.
        let grace = pod["terminationGracePeriodSeconds"]
            .as_u64()
            .expect("terminationGracePeriodSeconds");
        assert!(
            grace > config.shutdown.timeout_secs,
            "{what}: terminationGracePeriodSeconds {grace} must exceed shutdown.timeout_secs {}",
            config.shutdown.timeout_secs
        );

        if kind == "StatefulSet" {
            assert_eq!(service, "resolve", "{what}");
            assert_eq!(
                doc["spec"]["replicas"].as_u64(),
                Some(1),
                "{what}: exactly one resolver per store"
            );
            let claims: Vec<&str> = seq_of(&doc["spec"]["volumeClaimTemplates"], &what)
                .iter()
                .map(|c| str_of(&c["metadata"]["name"], &what))
                .collect();
            let store_volume = config
                .resolver
                .data_dir
                .parent()
                .expect("data_dir has a parent");
            let mount = seq_of(&container["volumeMounts"], &what)
                .iter()
                .find(|m| Path::new(str_of(&m["mountPath"], &what)) == store_volume)
                .unwrap_or_else(|| panic!("{what}: nothing mounted at {}", store_volume.display()));
            assert!(
                claims.contains(&str_of(&mount["name"], &what)),
                "{what}: {} is not a volumeClaimTemplate",
                store_volume.display()
            );
            // Its serviceName is a headless Service in these manifests.
            let service_name = str_of(&doc["spec"]["serviceName"], &what);
            assert!(
                docs.iter().any(|(_, d)| kind_is(d, "Service")
                    && name(d) == service_name
                    && d["spec"]["clusterIP"].as_str() == Some("None")),
                "{what}: no headless Service {service_name}"
            );
        } else {
            assert!(
                service.starts_with("ingest-"),
                "{what}: only ingest runs as a Deployment"
            );
            assert!(doc["spec"]["replicas"].as_u64().unwrap_or(0) >= 1, "{what}");
        }
    }
    let expected: BTreeSet<String> = SERVICES.iter().map(|(s, _)| s.to_string()).collect();
    assert_eq!(services_seen, expected, "one workload per service");
}

fn kind_is(doc: &Yaml, expected: &str) -> bool {
    kind(doc) == expected
}

/// Sets each of the container's Secret-sourced `KINDRED_KAFKA_CLIENT_*`
/// variables and checks the configuration then carries the property.
/// Returns the properties so checked.
fn check_secret_env(container: &Yaml, config_file: &str, what: &str) -> BTreeSet<String> {
    let mut checked = BTreeSet::new();
    let Some(env) = container["env"].as_sequence() else {
        return checked;
    };
    for var in env {
        if var["valueFrom"]["secretKeyRef"].is_null() {
            continue;
        }
        let var_name = str_of(&var["name"], what);
        // The keyring's text: read by the resolver's keyring loader.
        if var_name == kindred_pipeline::privacy::KEYRING_ENV {
            continue;
        }
        let property = var_name
            .strip_prefix("KINDRED_KAFKA_CLIENT_")
            .unwrap_or_else(|| {
                panic!("{what}: secret env {var_name} is not a Kafka client property")
            })
            .to_ascii_lowercase()
            .replace('_', ".");
        std::env::set_var(var_name, "from-the-secret");
        let config = Config::load(
            Some(&root().join("deploy/config").join(config_file)),
            serde_json::json!({}),
        );
        std::env::remove_var(var_name);
        let config = config.unwrap_or_else(|e| panic!("{what}: with {var_name} set: {e}"));
        assert_eq!(
            config.kafka.client.get(&property).map(String::as_str),
            Some("from-the-secret"),
            "{what}: {var_name} does not set kafka.client.\"{property}\""
        );
        checked.insert(property);
    }
    checked
}

/// A node drain evicts at most one pod of each replicated Deployment (the
/// ingest services): a PodDisruptionBudget selects exactly its pods.
#[test]
fn every_replicated_deployment_has_a_disruption_budget() {
    let docs = manifests();
    let budgets: Vec<&Yaml> = docs
        .iter()
        .map(|(_, d)| d)
        .filter(|d| kind(d) == "PodDisruptionBudget")
        .collect();
    for (file, d) in &docs {
        if kind(d) != "Deployment" || d["spec"]["replicas"].as_u64().unwrap_or(1) < 2 {
            continue;
        }
        let labels = &d["spec"]["template"]["metadata"]["labels"];
        let covering: Vec<&&Yaml> = budgets
            .iter()
            .filter(|b| selects(&b["spec"]["selector"]["matchLabels"], labels))
            .collect();
        assert_eq!(
            covering.len(),
            1,
            "{file}: one PodDisruptionBudget for {}",
            name(d)
        );
        assert_eq!(
            covering[0]["spec"]["maxUnavailable"].as_u64(),
            Some(1),
            "{file}: {}",
            name(d)
        );
        // Replicas past the partitions stay unready by design: counted as
        // disrupted, they would leave a drain nothing it may evict.
        assert_eq!(
            covering[0]["spec"]["unhealthyPodEvictionPolicy"].as_str(),
            Some("AlwaysAllow"),
            "{file}: {}",
            name(d)
        );
        // And it selects no other workload's pods.
        for (_, other) in &docs {
            if matches!(kind(other), "Deployment" | "StatefulSet") && name(other) != name(d) {
                assert!(
                    !selects(
                        &covering[0]["spec"]["selector"]["matchLabels"],
                        &other["spec"]["template"]["metadata"]["labels"]
                    ),
                    "{file}: the budget of {} also selects {}",
                    name(d),
                    name(other)
                );
            }
        }
    }
    assert_eq!(budgets.len(), 3, "one per ingest Deployment");
}

#[test]
fn k8s_services_select_pods_and_the_service_monitor_scrapes_port_http() {
    let docs = manifests();
    let pod_labels: Vec<&Yaml> = docs
        .iter()
        .filter(|(_, d)| ["Deployment", "StatefulSet"].contains(&kind(d)))
        .map(|(_, d)| &d["spec"]["template"]["metadata"]["labels"])
        .collect();
    let services: Vec<&Yaml> = docs
        .iter()
        .map(|(_, d)| d)
        .filter(|d| kind_is(d, "Service"))
        .collect();
    for service in &services {
        let selector = &service["spec"]["selector"];
        assert!(
            pod_labels.iter().any(|labels| selects(selector, labels)),
            "Service {} selects no pod",
            name(service)
        );
        let ports = seq_of(&service["spec"]["ports"], name(service));
        assert!(
            ports
                .iter()
                .any(|p| p["name"].as_str() == Some("http")
                    && p["targetPort"].as_str() == Some("http")),
            "Service {}: a port named http targeting the containers' http port",
            name(service)
        );
    }
    // Every workload's selector matches its own pod template.
    for (file, doc) in &docs {
        if ["Deployment", "StatefulSet"].contains(&kind(doc)) {
            assert!(
                selects(
                    &doc["spec"]["selector"]["matchLabels"],
                    &doc["spec"]["template"]["metadata"]["labels"]
                ),
                "{file}: selector does not match the pod template"
            );
        }
    }

    let monitors: Vec<&Yaml> = docs
        .iter()
        .map(|(_, d)| d)
        .filter(|d| kind_is(d, "ServiceMonitor"))
        .collect();
    assert_eq!(monitors.len(), 1, "one ServiceMonitor");
    let monitor = monitors[0];
    assert_eq!(
        monitor["apiVersion"].as_str(),
        Some("monitoring.coreos.com/v1")
    );
    let endpoints = seq_of(&monitor["spec"]["endpoints"], "endpoints");
    assert!(endpoints
        .iter()
        .all(|e| e["port"].as_str() == Some("http") && e["path"].as_str() == Some("/metrics")));
    let selected: Vec<&&Yaml> = services
        .iter()
        .filter(|s| {
            selects(
                &monitor["spec"]["selector"]["matchLabels"],
                &s["metadata"]["labels"],
            )
        })
        .collect();
    assert_eq!(
        selected.len(),
        1,
        "the ServiceMonitor selects exactly one Service (or pods are scraped twice)"
    );
    // That Service reaches every kindred pod.
    let selector = &selected[0]["spec"]["selector"];
    assert_eq!(
        pod_labels.iter().filter(|l| selects(selector, l)).count(),
        pod_labels.len(),
        "the scraped Service {} selects every service's pods",
        name(selected[0])
    );
}

// --- Grafana dashboard -----------------------------------------------------------

/// Metric names in a PromQL expression: identifiers that are neither
/// functions, keywords, label names (in `{}` or `by (...)`) nor durations.
fn metric_names(expr: &str) -> Vec<String> {
    // Operators, literals, and aggregations (which may come before their
    // parenthesis: `sum by (x) (...)`).
    const KEYWORDS: &[&str] = &[
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "inf",
        "nan",
        "atan2",
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
    ];
    const LABEL_LISTS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let chars: Vec<char> = expr.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    let skip_to = |i: &mut usize, close: char| {
        while *i < chars.len() && chars[*i] != close {
            if chars[*i] == '"' {
                *i += 1;
                while *i < chars.len() && chars[*i] != '"' {
                    *i += if chars[*i] == '\\' { 2 } else { 1 };
                }
            }
            *i += 1;
        }
        *i += 1;
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '{' {
            skip_to(&mut i, '}');
        } else if c == '[' {
            skip_to(&mut i, ']');
        } else if c == '"' || c == '\'' || c == '`' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut next = i;
            while next < chars.len() && chars[next].is_whitespace() {
                next += 1;
            }
            let opens = chars.get(next) == Some(&'(');
            if LABEL_LISTS.contains(&word.as_str()) {
                if opens {
                    i = next;
                    skip_to(&mut i, ')');
                }
            } else if KEYWORDS.contains(&word.as_str()) || opens {
                // An operator, or a function or aggregation.
            } else {
                names.push(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

/// Panics unless every metric `expr` reads is one a kindred service exports
/// (or `up`); returns them.
fn check_metric_names(expr: &str, what: &str) -> Vec<String> {
    let names = metric_names(expr);
    assert!(!names.is_empty(), "{what}: no metric in {expr}");
    for name in &names {
        let known = METRICS.contains(&name.as_str())
            || name == "up"
            || name.starts_with("process_")
            || HISTOGRAMS.iter().any(|h| {
                name.strip_prefix(h)
                    .is_some_and(|rest| ["_bucket", "_sum", "_count"].contains(&rest))
            });
        assert!(known, "{what}: unknown metric {name} in {expr}");
    }
    names
}

#[test]
fn metric_names_are_found_in_promql() {
    let expr = r#"sum by (service, le) (rate(kindred_batch_duration_seconds_bucket{stage="ingest",x="a{b}"}[$__rate_interval] offset 5m)) / on (service) group_left (topic) kindred_profiles > 1e9 or vector(0) unless up{job=~"kindred.*"} == 0.5"#;
    assert_eq!(
        metric_names(expr),
        [
            "kindred_batch_duration_seconds_bucket",
            "kindred_profiles",
            "up"
        ]
    );
}

/// Every (panel title, expr) of the dashboard, rows' nested panels included.
fn dashboard_targets(panels: &[serde_json::Value], out: &mut Vec<(String, String)>) {
    for panel in panels {
        let title = panel["title"].as_str().unwrap_or("").to_string();
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"]
                .as_str()
                .unwrap_or_else(|| panic!("panel {title}: a target without expr"));
            out.push((title.clone(), expr.to_string()));
            assert_eq!(
                target["datasource"]["uid"].as_str(),
                Some("${datasource}"),
                "panel {title}: targets use the datasource variable"
            );
        }
        if let Some(nested) = panel["panels"].as_array() {
            dashboard_targets(nested, out);
        }
    }
}

/// The lists above are the metrics `kindred_ops::Metrics` registers: every
/// `"kindred_..."` name its source (before its tests) gives a metric.
#[test]
fn the_metric_lists_are_the_ones_the_services_register() {
    let source = read("crates/kindred-ops/src/metrics.rs");
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    let registered: BTreeSet<&str> = code
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.starts_with("kindred_") && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
        .collect();
    assert!(registered.len() >= 30, "{registered:?}");
    let listed: BTreeSet<&str> = METRICS.iter().chain(HISTOGRAMS).copied().collect();
    assert_eq!(
        registered.difference(&listed).collect::<Vec<_>>(),
        Vec::<&&str>::new(),
        "registered but in neither METRICS nor HISTOGRAMS"
    );
    assert_eq!(
        listed.difference(&registered).collect::<Vec<_>>(),
        Vec::<&&str>::new(),
        "listed but not registered"
    );
}

#[test]
fn dashboard_queries_only_exported_metrics_and_covers_them_all() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&read("deploy/grafana/kindred.json")).expect("kindred.json is JSON");
    assert!(dashboard["schemaVersion"].as_u64().unwrap_or(0) >= 36);
    let variables = dashboard["templating"]["list"]
        .as_array()
        .expect("templating");
    assert!(
        variables.iter().any(|v| v["name"] == "datasource"
            && v["type"] == "datasource"
            && v["query"] == "prometheus"),
        "a datasource variable of type prometheus"
    );
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut targets = Vec::new();
    dashboard_targets(panels, &mut targets);
    assert!(targets.len() >= 20, "{} queries", targets.len());

    let mut used = BTreeSet::new();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (n, (title, expr)) in targets.iter().enumerate() {
        // Sent verbatim to Prometheus once $__rate_interval is replaced: no
        // other Grafana variable.
        let verbatim = expr.replace("$__rate_interval", "1m");
        assert!(
            !verbatim.contains('$'),
            "panel {title}: only $__rate_interval may appear in {expr}"
        );
        for name in check_metric_names(&verbatim, &format!("panel {title}")) {
            used.insert(name);
        }
        rules.push_str(&format!(
            "      - record: dashboard:query{n}\n        expr: {}\n",
            serde_json::to_string(&verbatim).expect("a string")
        ));
    }
    for metric in METRICS {
        assert!(used.contains(*metric), "no panel shows {metric}");
    }
    for histogram in HISTOGRAMS {
        assert!(
            used.contains(&format!("{histogram}_bucket")),
            "no panel shows {histogram}"
        );
    }
    // Prometheus' own parser checks every query (as recording rules).
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("dashboard-queries.yml");
    std::fs::write(&file, rules).expect("write rules");
    promtool(&["check", "rules", file.to_str().expect("utf-8 path")]);
}

// --- Docker Compose ------------------------------------------------------------

/// The Compose stack's resolver ran with `privacy.plaintext_store` and no
/// keyring: the default output policy hashes member cards and social ids,
/// which needs a keyring, so it exited at start and restarted for ever. A
/// one-shot `keys` service makes the keyring into the store's volume once;
/// the resolver reads it and waits for it.
#[test]
fn the_compose_resolver_starts_with_the_keyring_its_keys_service_makes() {
    let mut compose = yaml_docs("deploy/docker-compose.yml").remove(0);
    compose
        .apply_merge()
        .unwrap_or_else(|e| panic!("docker-compose.yml: merge keys: {e}"));
    let services = &compose["services"];
    let resolve = &services["resolve"];
    let keys = &services["keys"];
    let env = &resolve["environment"];
    let keyring = str_of(
        &env["KINDRED_PRIVACY__KEYRING_FILE"],
        "resolve's keyring file",
    );
    assert!(
        env["KINDRED_PRIVACY__PLAINTEXT_STORE"].is_null(),
        "the resolver keeps no unsealed store"
    );
    assert_eq!(
        str_of(
            &resolve["depends_on"]["keys"]["condition"],
            "resolve waits for keys"
        ),
        "service_completed_successfully"
    );
    let made = seq_of(&keys["command"], "keys' command")
        .iter()
        .map(|c| str_of(c, "keys' command"))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        made.contains(&format!(
            "test -f {keyring} || kindred keys generate --out {keyring}"
        )),
        "keys makes {keyring} once: {made}"
    );
    let volume = |service: &Yaml| -> Vec<String> {
        seq_of(&service["volumes"], "volumes")
            .iter()
            .map(|v| str_of(v, "volume").to_string())
            .collect()
    };
    assert_eq!(volume(keys), volume(resolve), "the same volume");
    assert!(
        keyring.starts_with("/var/lib/kindred/"),
        "{keyring} in the volume"
    );

    // The resolver's environment, with a keyring where it points, loads
    // and passes the output policy's check (which refused it before).
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("keyring.toml");
    std::fs::write(&file, kindred_crypto::Keyring::generate()).expect("write keyring");
    let _guard = env_lock();
    let vars: Vec<(String, String)> = env
        .as_mapping()
        .expect("resolve's environment is a map")
        .iter()
        .map(|(k, v)| {
            let k = str_of(k, "variable").to_string();
            let v = if k == "KINDRED_PRIVACY__KEYRING_FILE" {
                file.display().to_string()
            } else {
                str_of(v, "value").to_string()
            };
            (k, v)
        })
        .collect();
    for (k, v) in &vars {
        std::env::set_var(k, v);
    }
    let loaded = Config::load(None, serde_json::json!({}));
    for (k, _) in &vars {
        std::env::remove_var(k);
    }
    let config = loaded.unwrap_or_else(|e| panic!("resolve's environment does not load: {e}"));
    kindred_pipeline::output_policy::OutputProtection::from_config(&config)
        .unwrap_or_else(|e| panic!("the resolver would exit at start: {e}"));
}

/// The image is built from the repository root (deploy/Dockerfile's `COPY
/// . .`), and Docker does not read .gitignore: without a .dockerignore the
/// README's ./data (a keyring, a store of customers' personal data) went
/// into the build context and its cached layers.
#[test]
fn the_image_build_context_leaves_out_what_git_leaves_out() {
    let ignored: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    for entry in read(".gitignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        assert!(
            ignored.iter().any(|i| i == entry),
            ".dockerignore lacks {entry:?}, which .gitignore lists"
        );
    }
    assert!(
        read("deploy/Dockerfile").contains("COPY . ."),
        "the context check assumes the whole root is copied"
    );
}

/// The image runs as `kindred` from a directory that user owns: without a
/// `WORKDIR` the process ran in `/`, where the defaults' relative paths
/// (`resolver.data_dir` = ./data/resolver, `keys generate --out`) could not
/// be written, so `docker run IMAGE resolve` failed at start.
#[test]
fn the_image_runs_in_a_directory_its_user_owns() {
    let dockerfile = read("deploy/Dockerfile");
    let last_stage = dockerfile.rsplit("\nFROM ").next().expect("a stage");
    let home = last_stage
        .split_whitespace()
        .skip_while(|w| *w != "--home")
        .nth(1)
        .expect("the user is made with a home directory");
    assert!(
        last_stage.contains(&format!("chown kindred {home}")),
        "the home directory {home} belongs to kindred"
    );
    let workdir = last_stage
        .lines()
        .filter_map(|l| l.trim().strip_prefix("WORKDIR "))
        .next_back();
    assert_eq!(workdir, Some(home), "the image's working directory");
    assert!(last_stage.contains("USER kindred"), "runs as kindred");
}

// --- First hour and rollouts (fifty-eighth session, helper-181) ---------------

/// Under `OrderedReady` the StatefulSet controller replaces no pod that is
/// not Running and Ready: a crash-looping resolver image could not be
/// rolled back, nor an unready resolver restarted with a fixed
/// configuration. A StatefulSet never runs two pods of one name, so
/// `Parallel` keeps one writer per store.
#[test]
fn the_resolver_statefulset_rolls_while_its_pod_is_unready() {
    let docs = manifests();
    let sets: Vec<&Yaml> = docs
        .iter()
        .map(|(_, d)| d)
        .filter(|d| kind(d) == "StatefulSet")
        .collect();
    assert!(!sets.is_empty(), "the resolver's StatefulSet");
    for set in sets {
        assert_eq!(
            str_of(&set["spec"]["podManagementPolicy"], "podManagementPolicy"),
            "Parallel",
            "{}",
            name(set)
        );
    }
    // The field cannot change on an existing StatefulSet (`kubectl apply`
    // refuses the whole object, new image included): the upgrade notes
    // say how to replace it, keeping the pod and its volume.
    let runbook = read("docs/operations.md");
    let upgrading = runbook
        .split("## Upgrading kindred")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/operations.md's Upgrading section");
    assert!(
        upgrading.contains("delete statefulset kindred-resolve --cascade=orphan"),
        "the upgrade notes must say how to replace the resolver's StatefulSet"
    );
}

/// Every Secret a workload mounts or reads without `optional: true` is
/// created in the Deploy steps, in the namespace they use: the keyring's
/// was only in the Privacy section (without `-n`), and the resolver stayed
/// in ContainerCreating.
#[test]
fn the_deploy_steps_create_every_secret_the_workloads_need() {
    fn required_secrets(v: &Yaml, out: &mut BTreeSet<String>) {
        match v {
            Yaml::Mapping(m) => {
                for (key, value) in m {
                    let reference = match key.as_str() {
                        Some("secret") => value["name"].as_str().or(value["secretName"].as_str()),
                        Some("secretKeyRef") => value["name"].as_str(),
                        _ => None,
                    };
                    if let Some(secret) = reference {
                        if value["optional"].as_bool() != Some(true) {
                            out.insert(secret.to_string());
                        }
                    }
                    required_secrets(value, out);
                }
            }
            Yaml::Sequence(s) => s.iter().for_each(|v| required_secrets(v, out)),
            _ => {}
        }
    }
    let mut secrets = BTreeSet::new();
    for (_, doc) in manifests() {
        required_secrets(&doc, &mut secrets);
    }
    assert!(secrets.contains("kindred-keyring"), "{secrets:?}");
    let runbook = read("docs/operations.md");
    let deploy = runbook
        .split("Step by step:")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/operations.md's Deploy steps");
    for secret in &secrets {
        assert!(
            deploy.contains(&format!("kubectl -n NS create secret generic {secret}")),
            "the Deploy steps do not create the Secret {secret} the workloads require"
        );
    }
}

/// The Compose broker advertised only `kafka:9092`, which the host does
/// not resolve: every tool on the host (`kindred gen --kafka`, `eval
/// --profile-topic`, `forget`) failed after its first metadata request.
/// Each published port is a listener advertised where the host reaches it.
#[test]
fn the_compose_broker_is_reachable_where_it_is_published() {
    let compose = yaml_docs("deploy/docker-compose.yml").remove(0);
    let kafka = &compose["services"]["kafka"];
    let env = &kafka["environment"];
    let listeners = |key: &str| -> BTreeMap<String, String> {
        str_of(&env[key], key)
            .split(',')
            .filter_map(|l| l.split_once("://"))
            .map(|(name, address)| (name.to_string(), address.to_string()))
            .collect()
    };
    let (bound, advertised) = (
        listeners("KAFKA_LISTENERS"),
        listeners("KAFKA_ADVERTISED_LISTENERS"),
    );
    let ports = seq_of(&kafka["ports"], "kafka's ports");
    assert!(!ports.is_empty());
    for port in ports {
        let port = str_of(port, "a port");
        let parts: Vec<&str> = port.split(':').collect();
        let [host_ip, host_port, container_port] = parts[..] else {
            panic!("{port}: expected IP:HOST:CONTAINER");
        };
        let name = bound
            .iter()
            .find(|(_, address)| address.ends_with(&format!(":{container_port}")))
            .map(|(name, _)| name.clone())
            .unwrap_or_else(|| panic!("{port}: no listener on container port {container_port}"));
        let reached = advertised.get(&name).map(String::as_str);
        assert!(
            reached == Some(&format!("{host_ip}:{host_port}")[..])
                || reached == Some(&format!("localhost:{host_port}")[..]),
            "{port}: listener {name} is advertised as {reached:?}, not where the host reaches it"
        );
    }
}

/// A relative `KINDRED_CACHE` (a CI cache setting) was read from each
/// crate's directory by the tests: the fault test's broker restart found
/// no broker there, installed another and could not start it. env.sh
/// makes it absolute.
#[test]
fn env_sh_makes_the_cache_directory_absolute() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env_sh = root().join("deploy/local/env.sh");
    let out = Command::new("bash")
        .current_dir(dir.path())
        .env("KINDRED_CACHE", "rel-cache")
        .env_remove("CARGO_TARGET_DIR")
        .arg("-c")
        .arg(format!(
            ". '{}' && printf '%s\\n%s' \"$KINDRED_CACHE\" \"$CARGO_TARGET_DIR\"",
            env_sh.display()
        ))
        .output()
        .expect("bash runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let expected = dir.path().join("rel-cache");
    let expected = expected.canonicalize().expect("made");
    assert_eq!(Path::new(lines[0]), expected);
    assert_eq!(Path::new(lines[1]), expected.join("target"));
}
