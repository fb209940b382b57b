//! Running the `kindred` binary as users do, for the CLI test binaries.

use std::process::Command;

/// Runs `kindred args...`; returns whether it succeeded and its stdout
/// followed by its stderr.
pub fn kindred(args: &[&str]) -> (bool, String) {
    kindred_with_env(args, &[])
}

/// [`kindred`] with environment variables set (the services a load run
/// starts inherit them).
#[allow(dead_code)] // not every test binary sets any
pub fn kindred_with_env(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kindred"))
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_BACKTRACE", "0")
        // The tests say which keyring and configuration they use.
        .env_remove("KINDRED_KEYRING")
        .env_remove("KINDRED_CONFIG")
        .output()
        .expect("the kindred binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
