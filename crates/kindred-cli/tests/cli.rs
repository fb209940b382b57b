//! The `kindred` binary as users call it (no broker needed for these).

use std::process::Command;

fn kindred(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kindred"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the kindred binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
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
}

#[test]
fn demo_runs_without_a_broker() {
    let (ok, out) = kindred(&["demo", "--people", "40"]);
    assert!(ok, "{out}");
    assert!(out.contains("dead letters        3"), "{out}");
    assert!(out.contains("over-merged profiles 0"), "{out}");
    assert!(out.contains("pairwise"), "{out}");
}
