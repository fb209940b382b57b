# Sourced by the scripts in deploy/local: where builds and the broker keep their state.
# A cache directory outside the clone is reused when it exists, and created when it
# does not, so a fresh machine works and a warm one is fast.
export KINDRED_CACHE="${KINDRED_CACHE:-$HOME/.cache/kindred}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$KINDRED_CACHE/target}"
mkdir -p "$KINDRED_CACHE" "$CARGO_TARGET_DIR"
# Absolute: tests run in their crate's directory (the fault test's broker
# restart read a relative cache there, and installed and started a second
# broker).
KINDRED_CACHE="$(cd "$KINDRED_CACHE" && pwd)"
CARGO_TARGET_DIR="$(cd "$CARGO_TARGET_DIR" && pwd)"
