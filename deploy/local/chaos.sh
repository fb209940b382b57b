#!/usr/bin/env bash
# The long chaos run of issue 7 against the local broker: 200,000 generated
# events through the pipeline as real processes, with the resolver killed
# (kill -9) five times and restarted, one of two POS ingest instances killed,
# the broker restarted, and the resolver stopped by SIGTERM; then the store
# and the profile topic are checked against an uninterrupted run.
#
#   deploy/local/chaos.sh                 # the long run (a release build)
#   deploy/local/chaos.sh --events 50000  # any `kindred chaos` flag overrides
#
# Exits 1 if a guarantee broke. The short version runs in CI
# (crates/kindred-cli/tests/chaos.rs). See docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/env.sh

deploy/local/setup.sh
deploy/local/kafka.sh install
deploy/local/kafka.sh start
cargo build --release -p kindred-cli
exec "$CARGO_TARGET_DIR/release/kindred" chaos \
  --events 200000 --rate 4000 --resolver-kills 5 \
  --broker-restart "bash deploy/local/kafka.sh restart" \
  "$@"
