#!/usr/bin/env bash
# The whole test suite on a fresh machine: install prerequisites, install and
# start the local Apache Kafka broker (unless one already runs) with its
# PLAINTEXT and SASL_SSL listeners, check formatting and lints, run every
# test, and stop the broker if this script started it. `.ci/run` calls exactly this.
# A toolchain without rustfmt or clippy fails it (KINDRED_SKIP_LINT=1 runs the
# tests without the lint, saying so).
set -euo pipefail
script="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/../.."
source deploy/local/env.sh
# One run at a time per cache directory: a second run stopped and wiped the
# first's test broker, and the first's exit deleted the second's topics.
# flock holds the lock itself (-o: the broker and cargo do not inherit it).
if [ -z "${TEST_SH_LOCK_HELD:-}" ]; then
  export TEST_SH_LOCK_HELD=1
  if ! flock -n -o "$KINDRED_CACHE/test.lock" true; then
    echo "[kindred test.sh] another run holds $KINDRED_CACHE/test.lock: waiting for it to end" >&2
  fi
  exec flock -o "$KINDRED_CACHE/test.lock" "$script" "$@"
fi
# The broker the tests use: the one this script starts, on KAFKA_PORT.
export KINDRED_TEST_BROKERS="${KINDRED_TEST_BROKERS:-127.0.0.1:${KAFKA_PORT:-9092}}"
# The tests configure their stores and services themselves: the caller's own
# kindred settings (a keyring, a config file, KINDRED_<SECTION>__<KEY>
# overrides, Kafka client secrets) must not reach them. A plaintext test
# store refuses to open with a keyring given, as it should.
for var in $(compgen -e | grep -E '^KINDRED_(CONFIG|KEYRING|KAFKA_CLIENT_.*|.*__.*)$' || true); do
  unset "$var"
done

# Each phase prints how long it took, so a slow CI run says where its time went.
phase_start=$SECONDS
phase() {
  echo "[kindred test.sh] $1 took $((SECONDS - phase_start)) s (total ${SECONDS} s)" >&2
  phase_start=$SECONDS
}

deploy/local/setup.sh
phase "setup (apt packages)"
deploy/local/kafka.sh install
phase "kafka install"

started_broker=0
if ! deploy/local/kafka.sh status >/dev/null 2>&1; then
  started_broker=1
fi
topics_before=""
cleanup() {
  local status=$?
  if [ "$status" -ne 0 ] && [ "$started_broker" -eq 1 ]; then
    # The next run's wipe deletes the broker's log: show its end now.
    echo "[kindred test.sh] the run failed; the broker log ends:" >&2
    deploy/local/kafka.sh logs 40 >&2 2>/dev/null || true
  fi
  if [ "$started_broker" -eq 1 ]; then
    deploy/local/kafka.sh stop || true
  elif [ -n "$topics_before" ]; then
    # A broker that already ran (a developer's) keeps what it had; the
    # topics this run's tests made are deleted (KINDRED_KEEP_TOPICS=1 keeps them).
    if [ -z "${KINDRED_KEEP_TOPICS:-}" ]; then
      deploy/local/kafka.sh delete-run-topics "$topics_before" || true
    fi
    rm -f "$topics_before"
  fi
}
trap cleanup EXIT
# A broker this script starts starts empty: every test names its topics with
# a run id, so a broker kept between runs in the cache directory gathers about
# a thousand partitions per run, and a restart (crates/kindred-cli/tests/chaos.rs makes one)
# slows from seconds to minutes. A broker that already runs is not wiped: the
# topics the run made on it are deleted at exit instead.
if [ "$started_broker" -eq 1 ]; then
  port="${KAFKA_PORT:-9092}"
  # Its own directory, wiped: a developer's broker (kafka.sh start, now
  # stopped) keeps its topics and its TLS CA. A test broker an earlier run
  # left running (killed before its exit trap) is stopped first.
  export KAFKA_RUN_DIR="$KINDRED_CACHE/kafka-test-run-$port"
  deploy/local/kafka.sh stop >/dev/null 2>&1 || true
  # A broker kafka.sh did not start (a Compose stack's, a system one) on the
  # port: neither wiped nor reused, and not silently mistaken for ours.
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "[kindred test.sh] 127.0.0.1:$port is taken by a process deploy/local/kafka.sh did not start" \
      "(a Compose or system Kafka?): stop it, or run with KAFKA_PORT=<free port> and" \
      "KINDRED_TEST_BROKERS=127.0.0.1:<that port>" >&2
    exit 1
  fi
  deploy/local/kafka.sh wipe
fi
# Starts the broker (with its SASL_SSL listener), or checks one that already
# runs without restarting it: it warns when that broker has no SASL_SSL
# listener (tests/secure.rs then fails asking for `kafka.sh restart`).
deploy/local/kafka.sh start
if [ "$started_broker" -eq 0 ]; then
  # Set only once the listing succeeded: a partial one would make the exit
  # trap delete topics that were there before.
  listing="$(mktemp)"
  deploy/local/kafka.sh topics >"$listing" && topics_before="$listing"
fi
phase "kafka start"

# The lint is part of the test command: a toolchain without rustfmt or
# clippy fails the run instead of passing it unlinted (CI or not), unless
# KINDRED_SKIP_LINT=1 says so out loud.
for tool in fmt clippy; do
  if ! cargo "$tool" --version >/dev/null 2>&1; then
    if [ "${KINDRED_SKIP_LINT:-}" != "1" ]; then
      echo "[kindred test.sh] error: cargo $tool is missing (rustup component add rustfmt clippy; KINDRED_SKIP_LINT=1 runs the tests without the lint)" >&2
      exit 1
    fi
    echo "[kindred test.sh] warning: cargo $tool is missing; skipped (KINDRED_SKIP_LINT=1)" >&2
  fi
done
if cargo fmt --version >/dev/null 2>&1; then
  cargo fmt --all -- --check
fi
# --locked: the build uses Cargo.lock as committed, never a re-resolution.
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --locked --workspace --all-targets --quiet -- -D warnings
fi
phase "fmt and clippy"
cargo test --locked --workspace --all-targets --no-run "$@"
phase "test build"
cargo test --locked --workspace --all-targets "$@"
phase "test run"
