//! The `kindred` binary as users call it (no broker needed for these).

mod common;

fn kindred(args: &[&str]) -> (bool, String) {
    common::kindred(args)
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("temp file");
    path.display().to_string()
}

#[test]
fn schemas_check_passes_for_the_shipped_schemas() {
    let (ok, out) = kindred(&["schemas", "check"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("history/pos_transaction.v1.avsc -> pos_transaction.avsc: FULL"),
        "{out}"
    );
    // The profile change is held to BACKWARD (its readers upgrade first):
    // a version-1 reader cannot read SPLIT.
    assert!(
        out.contains(
            "ok   history/profile_change.v1.avsc -> profile_change.avsc: BACKWARD (required BACKWARD)"
        ),
        "{out}"
    );
    let (ok, out) = kindred(&["schemas", "check", "--level", "full"]);
    assert!(!ok, "profile_change v3 is not FULL: {out}");
    assert!(
        out.contains("FAIL history/profile_change.v1.avsc")
            && out.contains("not forward compatible"),
        "{out}"
    );
}

#[test]
fn schemas_check_rejects_a_breaking_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old = write(
        &dir,
        "old.avsc",
        r#"{"type":"record","name":"R","fields":[{"name":"id","type":"string"}]}"#,
    );
    let added_optional = write(
        &dir,
        "ok.avsc",
        r#"{"type":"record","name":"R","fields":[{"name":"id","type":"string"},{"name":"note","type":["null","string"],"default":null}]}"#,
    );
    let added_required = write(
        &dir,
        "bad.avsc",
        r#"{"type":"record","name":"R","fields":[{"name":"id","type":"string"},{"name":"store","type":"string"}]}"#,
    );
    let (ok, out) = kindred(&["schemas", "check", &old, &added_optional]);
    assert!(ok, "{out}");
    let (ok, out) = kindred(&["schemas", "check", &old, &added_required]);
    assert!(!ok, "a new required field must be rejected: {out}");
    assert!(
        out.contains("FAIL") && out.contains("not backward compatible"),
        "{out}"
    );
    let (ok, out) = kindred(&[
        "schemas",
        "check",
        "--level",
        "forward",
        &old,
        &added_required,
    ]);
    assert!(ok, "old readers ignore the new field: {out}");
}

#[test]
fn config_check_masks_secrets_and_names_bad_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = write(
        &dir,
        "good.toml",
        "[kafka.client]\n\"sasl.password\" = \"hunter2\"\n",
    );
    let (ok, out) = kindred(&["config", "check", &good]);
    assert!(ok, "{out}");
    assert!(
        !out.contains("hunter2") && out.contains("********"),
        "{out}"
    );
    let bad = write(&dir, "bad.toml", "[resolver]\nbatch_sise = 5\n");
    let (ok, out) = kindred(&["config", "check", &bad]);
    assert!(!ok);
    assert!(
        out.contains("batch_sise") && out.contains("bad.toml"),
        "{out}"
    );
    // A registry id that a built-in older version also holds: refused by
    // the check, not first by a service at start.
    let clash = write(&dir, "clash.toml", "[schemas.ids]\npos_transaction = 12\n");
    let (ok, out) = kindred(&["config", "check", &clash]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("schema id 12") && out.contains("web_event.v1"),
        "{out}"
    );
    // What a service would refuse at start, the check refuses first: a
    // client property librdkafka does not have (its value unsaid), hashed
    // output on a store without a keyring, a blocklist entry that is no
    // identifier.
    for (name, text, said) in [
        (
            "typo.toml",
            "[kafka.client]\n\"sasl.passwrd\" = \"TYPO_SECRET\"\n",
            "[kafka.client] \"sasl.passwrd\"",
        ),
        (
            "hashed.toml",
            "[privacy]\nplaintext_store = true\n",
            "hashing needs a keyring",
        ),
        (
            "blocked.toml",
            "[normalize]\nblocklist = [\"fone:+8615767027543\"]\n",
            "normalize.blocklist[0]: unknown identifier kind",
        ),
    ] {
        let file = write(&dir, name, text);
        let (ok, out) = kindred(&["config", "check", &file]);
        assert!(!ok, "{name}: {out}");
        assert!(out.contains(said), "{name}: {out}");
        assert!(!out.contains("TYPO_SECRET"), "{out}");
    }
}

#[test]
fn demo_runs_without_a_broker() {
    let (ok, out) = kindred(&["demo", "--people", "40"]);
    assert!(ok, "{out}");
    assert!(out.contains("dead letters        3"), "{out}");
    assert!(out.contains("over-merged profiles"), "{out}");
    assert!(out.contains("pairwise"), "{out}");
}

#[test]
fn gen_then_demo_then_eval_is_a_documented_sequence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let store = dir.path().join("store");
    let (d, s) = (data.display().to_string(), store.display().to_string());
    let (ok, out) = kindred(&["gen", "--people", "50", "--seed", "3", "--out", &d]);
    assert!(ok, "{out}");
    let files = [
        "truth.csv",
        "pos.jsonl",
        "web.jsonl",
        "social.jsonl",
        "gen.json",
    ];
    let first: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(data.join(f)).expect("written"))
        .collect();
    let (ok, out) = kindred(&["gen", "--people", "50", "--seed", "3", "--out", &d]);
    assert!(ok, "{out}");
    for (f, before) in files.iter().zip(&first) {
        assert_eq!(
            &std::fs::read(data.join(f)).expect("written"),
            before,
            "{f} is deterministic"
        );
    }
    // Clean data (no shared or junk identifiers), so no profile may mix people.
    let (ok, out) = kindred(&[
        "gen", "--people", "50", "--seed", "3", "--mess", "0", "--out", &d,
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("0 duplicate deliveries"), "{out}");
    let (ok, out) = kindred(&["demo", "--input", &d, "--data-dir", &s]);
    assert!(ok, "{out}");
    assert!(out.contains("dead letters        0"), "{out}");
    // No keyring: the kept store is plaintext, and the user is told.
    assert!(
        out.contains("warning: no keyring is configured") && out.contains("is plaintext"),
        "{out}"
    );
    let truth = data.join("truth.csv").display().to_string();
    let (ok, out) = kindred(&["eval", "--data-dir", &s, "--truth", &truth, "--json"]);
    assert!(ok, "{out}");
    assert!(out.contains("\"over_merged_profiles\": 0"), "{out}");
    // The clustering for the user's own scoring: every event of the truth,
    // in the truth's form, and with no truth no score.
    let assigned = dir.path().join("assignments.csv");
    let a = assigned.display().to_string();
    let (ok, out) = kindred(&["eval", "--data-dir", &s, "--assignments", &a]);
    assert!(ok && !out.contains("pairwise"), "{out}");
    let written = std::fs::read_to_string(&assigned).expect("written");
    let truth_text = std::fs::read_to_string(data.join("truth.csv")).expect("truth");
    let events = |text: &str| -> std::collections::BTreeSet<String> {
        text.lines()
            .skip(1)
            .filter_map(|l| l.rsplit_once(',').map(|(e, _)| e.to_string()))
            .collect()
    };
    assert!(written.starts_with("event_id,profile_id\n"), "{written}");
    assert_eq!(events(&written), events(&truth_text));
    assert!(written.lines().skip(1).all(|l| l
        .rsplit_once(',')
        .is_some_and(|(_, p)| p.starts_with("kp-"))));
    let (ok, out) = kindred(&["eval", "--data-dir", &s]);
    assert!(!ok && out.contains("--truth"), "{out}");
    let (ok, out) = kindred(&["eval", "--data-dir", "/nonexistent", "--truth", &truth]);
    assert!(!ok && out.contains("/nonexistent"), "{out}");
    // A truth of a header alone scores nothing (every figure read 1.0).
    let empty = dir.path().join("empty-truth.csv");
    std::fs::write(&empty, "event_id,person\n").expect("written");
    let e = empty.display().to_string();
    let (ok, out) = kindred(&["eval", "--data-dir", &s, "--truth", &e]);
    assert!(
        !ok && out.contains("names no event") && out.contains(&e),
        "{out}"
    );
    let (ok, out) = kindred(&["gen", "--people", "5", "--cn-share", "1.5", "--out", &d]);
    assert!(!ok && out.contains("invalid generator options"), "{out}");
    // A period that ends after today: its last events would be
    // dead-lettered as dated in the future.
    let (ok, out) = kindred(&["gen", "--people", "5", "--days", "36500", "--out", &d]);
    assert!(
        !ok && out.contains("--days 36500 ends the period after today"),
        "{out}"
    );
}

/// The default schema ids live in three places: the codec's defaults, the
/// configuration's, and the shipped deploy/kindred.toml, which spells them out.
#[test]
fn default_schema_ids_agree_everywhere() {
    let codec = kindred_schema::WireCodec::default_ids();
    assert_eq!(kindred_config::SchemasConfig::default().ids, codec);
    assert_eq!(codec.get("profile_change.v1"), Some(&14));
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/kindred.toml"
    ))
    .expect("deploy/kindred.toml");
    let deployed: std::collections::BTreeMap<String, u32> = text
        .lines()
        .skip_while(|l| l.trim() != "[schemas.ids]")
        .skip(1)
        .take_while(|l| !l.trim().is_empty() && !l.starts_with('['))
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (name, id) = l.split_once('=').expect("name = id");
            (
                name.trim().trim_matches('"').to_string(),
                id.trim().parse().expect("an id"),
            )
        })
        .collect();
    assert_eq!(deployed, codec);
}

/// The operator's loop on a store the demo built: review queue, approve,
/// explain, split, rules diff and apply.
#[test]
fn review_explain_split_and_rules_work_on_a_demo_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data").display().to_string();
    let s = dir.path().join("store").display().to_string();
    // Seed 7: its 400 people include pairs a guard refused (the review queue).
    let (ok, out) = kindred(&["gen", "--people", "400", "--seed", "7", "--out", &data]);
    assert!(ok, "{out}");
    let (ok, out) = kindred(&["demo", "--input", &data, "--data-dir", &s]);
    assert!(ok, "{out}");

    let (ok, out) = kindred(&["review", "list", "--json", "--data-dir", &s]);
    assert!(ok, "{out}");
    let queue: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    let first = queue
        .as_array()
        .expect("array")
        .first()
        .expect("the demo store's review queue holds a pair");
    let (a, b) = (
        first["profile_a"].as_str().expect("a"),
        first["profile_b"].as_str().expect("b"),
    );
    let (ok, out) = kindred(&[
        "review",
        "approve",
        a,
        b,
        "--reviewer",
        "alice",
        "--data-dir",
        &s,
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("approve") && out.contains("merged"), "{out}");
    let (ok, out) = kindred(&["explain", b, "--data-dir", &s]);
    assert!(ok, "{out}");
    assert!(
        out.contains("review_approved") && out.contains("by alice"),
        "{out}"
    );
    assert!(out.contains("which source won each attribute"), "{out}");
    assert!(
        out.contains("what its records add up to:") && out.contains(" orders, spend "),
        "{out}"
    );
    // Approving again what is now one profile is refused, clearly.
    let (ok, out) = kindred(&["review", "approve", a, b, "--data-dir", &s]);
    assert!(!ok && out.contains("already one profile"), "{out}");
    // A reject of the pair takes the approval back: a split, reported.
    let (ok, out) = kindred(&["review", "reject", a, b, "--data-dir", &s]);
    assert!(
        ok && out.contains("(reject)") && out.contains("split"),
        "{out}"
    );
    // The id the approval absorbed comes back, and says so.
    assert!(
        out.contains("(an id absorbed earlier, given back)"),
        "{out}"
    );

    // Split the approved merge back apart by source or identifier.
    let (ok, out) = kindred(&["explain", a, "--json", "--data-dir", &s]);
    assert!(ok, "{out}");
    let (ok, out) = kindred(&["split", a, "--source", "social", "--data-dir", &s]);
    assert!(
        ok || out.contains("cannot split"),
        "either it splits or says why: {out}"
    );

    // A rule set without match rules: diff predicts, apply does the same.
    let new = dir.path().join("new.toml");
    std::fs::write(&new, "[resolver.linking]\nrules = []\n").expect("write");
    let n = new.display().to_string();
    let (ok, diff) = kindred(&["rules", "diff", "--new", &n, "--json", "--data-dir", &s]);
    assert!(ok, "{diff}");
    // The new file's own warnings, before anything is applied.
    assert!(
        diff.contains("the new rules in") && diff.contains("replaces the default list"),
        "{diff}"
    );
    let json = diff
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_default();
    let diff: serde_json::Value = serde_json::from_str(json).expect("json");
    let (ok, out) = kindred(&["rules", "apply", "--new", &n, "--data-dir", &s]);
    assert!(ok, "{out}");
    let said = format!(
        "{} profiles changed;",
        diff["profiles_affected"].as_u64().expect("count")
    );
    assert!(out.contains(&said), "{said} / {out}");
    let (ok, again) = kindred(&["rules", "diff", "--new", &n, "--json", "--data-dir", &s]);
    assert!(ok, "{again}");
    // --set reaches the new rules as it reaches the service's: a stricter
    // name guard than the store was applied with changes profiles.
    let (ok, set) = kindred(&[
        "--set",
        "resolver.linking.min_name_similarity=0.95",
        "rules",
        "diff",
        "--new",
        &n,
        "--json",
        "--data-dir",
        &s,
    ]);
    assert!(ok, "{set}");
    assert!(!set.contains("\"profiles_affected\":0"), "{set}");
    assert!(again.contains("\"profiles_affected\":0"), "{again}");
    let (ok, out) = kindred(&["explain", "phone:not-a-phone", "--data-dir", &s]);
    assert!(!ok && out.contains("phone"), "{out}");
}

/// `kindred ingest` pointed at a port no broker listens on, its text log
/// on a pipe.
fn ingest_without_a_broker() -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_kindred"))
        .args([
            "ingest",
            "--channel",
            "pos",
            "--brokers",
            "127.0.0.1:9",
            "--http-listen",
            "127.0.0.1:0",
        ])
        .env("RUST_BACKTRACE", "0")
        .env("KINDRED_LOG_FORMAT", "text")
        .env_remove("KINDRED_LOG")
        .env_remove("KINDRED_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the kindred binary runs")
}

/// With no broker to reach, a service says so in words that name the
/// setting, and says it once per thing wrong per half minute, not once per
/// reconnect of every client (hundreds of lines in seconds).
#[test]
fn a_service_without_a_broker_says_so_without_flooding_its_log() {
    use std::io::Read;
    let mut child = ingest_without_a_broker();
    std::thread::sleep(std::time::Duration::from_secs(8));
    child.kill().expect("stopped");
    let mut log = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut log)
        .expect("read");
    child.wait().expect("reaped");
    assert!(log.contains("no broker in kafka.brokers answers"), "{log}");
    let lines = log.lines().count();
    assert!(lines <= 15, "{lines} lines in 8 s:\n{log}");
}

/// A reader that stops reading (`kindred ingest 2>&1 | head -2`) costs the
/// service its log lines, not its life: it used to abort (exit 134) on the
/// next line, a panic while reporting that it could not write the last one.
#[test]
fn a_closed_log_pipe_does_not_end_a_service() {
    use std::io::{BufRead, BufReader};
    let mut child = ingest_without_a_broker();
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    assert!(lines.next().is_some(), "a first log line");
    drop(lines);
    // It logs again within seconds (no broker answers): still running after.
    std::thread::sleep(std::time::Duration::from_secs(6));
    let exited = child.try_wait().expect("wait");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(exited, None, "the service ended when its log pipe closed");
}

/// A bad line in a demo's input is named by file and line with the reason
/// (never its content), and the run goes on.
#[test]
fn demo_names_the_file_and_line_of_each_dead_letter() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let d = data.display().to_string();
    let (ok, out) = kindred(&["gen", "--people", "20", "--seed", "3", "--out", &d]);
    assert!(ok, "{out}");
    let pos = data.join("pos.jsonl");
    let mut text = std::fs::read_to_string(&pos).expect("written");
    let lines = text.lines().count();
    text.push_str("{\"transaction_id\": \"T-9\", \"phone\": \"13912345678\"\n");
    std::fs::write(&pos, text).expect("appended");
    let (ok, out) = kindred(&["demo", "--input", &d]);
    assert!(ok, "{out}");
    let said = format!("pos.jsonl:{}: dead-lettered as invalid_json", lines + 1);
    assert!(out.contains(&said), "{said} in:\n{out}");
    assert!(!out.contains("13912345678"), "{out}");
}

/// Where a command would write over something, it says what and where.
#[test]
fn outputs_that_exist_already_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(&dir, "afile", "");
    let (ok, out) = kindred(&["gen", "--people", "5", "--out", &file]);
    assert!(!ok);
    assert!(out.contains(&format!("--out {file}: is a file")), "{out}");
    let store = dir.path().join("store").display().to_string();
    let (ok, out) = kindred(&["demo", "--people", "20", "--data-dir", &store]);
    assert!(ok, "{out}");
    let taken = dir.path().display().to_string();
    let (ok, out) = kindred(&["snapshot", "--data-dir", &store, "--out", &taken]);
    assert!(!ok);
    assert!(
        out.contains(&format!("--out {taken} exists already")),
        "{out}"
    );
}

/// A user's mistake reads as what was wrong, even with `RUST_BACKTRACE=1`
/// in the environment (anyhow printed a stack backtrace under every error).
#[test]
fn an_error_has_no_backtrace() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kindred"))
        .args(["gen", "--people", "10", "--cn-share", "2", "--out"])
        .arg(std::env::temp_dir().join("kindred-no-backtrace"))
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LIB_BACKTRACE", "1")
        .output()
        .expect("the kindred binary runs");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        text.contains("--cn-share must be between 0 and 1"),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("backtrace"), "{text}");
}

/// `KINDRED_CONFIG=` (set, empty: a manifest's template) is no
/// configuration file, not a flag given without its value.
#[test]
fn an_empty_config_variable_is_no_config_file() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kindred"))
        .args(["config", "check"])
        .env("KINDRED_CONFIG", "")
        .env("KINDRED_LOG_FORMAT", "")
        .output()
        .expect("the kindred binary runs");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("a value is required"), "{text}");
    assert!(out.status.success(), "{text}");
}

/// `KINDRED_LOG_SPANS=1` (as a manifest writes a switch) turns span logs
/// on; it stopped every command with clap's "invalid value '1' for
/// '--log-spans'", a flag the user never gave.
#[test]
fn log_spans_takes_the_usual_spellings_of_a_switch() {
    for value in ["1", "yes", "on", "true", "0", "off"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kindred"))
            .args(["config", "check"])
            .env("KINDRED_LOG_SPANS", value)
            .output()
            .expect("the kindred binary runs");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{value}: {text}");
    }
}

/// `--set` before and after the subcommand: every one applies. clap kept
/// only the subcommand's side of a global flag given on both, and the
/// others were dropped without a word (a security protocol set before
/// `resolve` while a batch size came after it: the client ran PLAINTEXT).
#[test]
fn every_set_applies_before_and_after_the_subcommand() {
    let (ok, out) = kindred(&[
        "--set",
        "topics.pos=pos.before",
        "--set=topics.social=social.before",
        "config",
        "check",
        "--set",
        "topics.web=web.after",
    ]);
    assert!(ok, "{out}");
    for want in [
        r#"pos = "pos.before""#,
        r#"social = "social.before""#,
        r#"web = "web.after""#,
    ] {
        assert!(out.contains(want), "{want} in {out}");
    }
}

/// With both a keyring variable and a keyring file, the variable wins:
/// `config check` says so rather than let the file look in use.
#[test]
fn config_check_warns_that_the_keyring_variable_wins_over_the_file() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kindred"))
        .args([
            "config",
            "check",
            "--set",
            "privacy.keyring_file=/etc/k.toml",
        ])
        .env("KINDRED_KEYRING", "not read by config check")
        .output()
        .expect("the kindred binary runs");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("KINDRED_KEYRING is set, so privacy.keyring_file /etc/k.toml is not read"),
        "{text}"
    );
}

/// `topics create` against an address where no broker listens says so
/// within seconds (it waited a minute for 'OperationTimedOut').
#[test]
fn topics_create_without_a_broker_says_so_quickly() {
    let started = std::time::Instant::now();
    let (ok, out) = kindred(&["topics", "create", "--brokers", "127.0.0.1:9"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("no broker in kafka.brokers (127.0.0.1:9) answers"),
        "{out}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(45),
        "{:?}",
        started.elapsed()
    );
}

/// A timeout flag past a day is refused by name: `--timeout-secs
/// 18446744073709551615` overflowed an `Instant` and panicked (reported as
/// a kindred bug).
#[test]
fn a_timeout_flag_past_a_day_is_refused_not_a_panic() {
    for args in [
        &[
            "restore",
            "--from",
            "/nonexistent",
            "--timeout-secs",
            "18446744073709551615",
        ][..],
        &["rebuild", "--timeout-secs", "86401"][..],
    ] {
        let (ok, out) = kindred(args);
        assert!(!ok, "{out}");
        assert!(out.contains("is not in 1..=86400"), "{out}");
        assert!(!out.contains("panicked"), "{out}");
    }
}
