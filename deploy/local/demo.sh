#!/usr/bin/env bash
# The main job on a fresh machine: install build prerequisites, build kindred,
# and run `kindred demo` (the whole pipeline in one process; no broker needed).
# Extra arguments go to `kindred demo` (e.g. --people 500 --seed 7).
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/env.sh
deploy/local/setup.sh
cargo run --quiet -p kindred-cli --bin kindred -- demo "$@"
