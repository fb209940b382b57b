#!/usr/bin/env bash
# A Prometheus server on loopback that watches a `kindred load` or `kindred
# chaos` run, with kindred's alert rules loaded: for looking at a run the way
# an SRE would, and for trying the dashboard's queries.
#
#   deploy/local/prometheus.sh start WORK_DIR   scrape what WORK_DIR/prometheus-targets.json lists (every 1 s)
#   deploy/local/prometheus.sh stop
#   deploy/local/prometheus.sh status
#   deploy/local/prometheus.sh query 'PROMQL'   instant query, JSON answer
#
# Start it, then run e.g. `kindred load --work-dir WORK_DIR --events 200000
# --rate 5000`: the run writes the targets file when its services are up.
# Prometheus comes from Debian's package (deploy/local/setup.sh installs it).
#
# Environment (defaults in brackets):
#   PROMETHEUS_PORT  [9090]
#   KINDRED_CACHE    [$HOME/.cache/kindred]  its storage lives under it
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
PROMETHEUS_PORT="${PROMETHEUS_PORT:-9090}"
RUN="$KINDRED_CACHE/prometheus-$PROMETHEUS_PORT"
PIDFILE="$RUN/prometheus.pid"
RULES="$(cd "$here/.." && pwd)/prometheus/alerts.yml"

log() { printf 'prometheus.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The recorded pid counts only while it is this Prometheus (pids wrap: a
# stale file must not be taken for a running server, or let stop signal
# another process). A stale file is removed.
running() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "prometheus.*--config.file=$RUN/prometheus.yml"; then
    return 0
  fi
  rm -f "$PIDFILE"
  return 1
}

# The work directory a running server watches (from its configuration).
watching() { sed -n 's|.*- files: \["\(.*\)/prometheus-targets.json"\].*|\1|p' "$RUN/prometheus.yml" 2>/dev/null; }

start() {
  local work="${1:-}"
  [ -n "$work" ] || die "usage: prometheus.sh start WORK_DIR"
  command -v prometheus >/dev/null || die "prometheus not found: run deploy/local/setup.sh"
  mkdir -p "$RUN" "$work"
  work="$(cd "$work" && pwd)"
  if running; then
    # Started again for the same run: nothing to do. For another run: it
    # watches that one from now on (a restart; its data stays).
    if [ "$(watching)" = "$work" ]; then
      log "already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$PROMETHEUS_PORT, watching $work"
      return 0
    fi
    log "running for $(watching); restarting it to watch $work"
    stop
  fi
  cat > "$RUN/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 5s
rule_files: ["$RULES"]
scrape_configs:
  - job_name: kindred
    file_sd_configs:
      - files: ["$work/prometheus-targets.json"]
        refresh_interval: 1s
YAML
  promtool check config "$RUN/prometheus.yml" >/dev/null || die "invalid generated configuration $RUN/prometheus.yml"
  prometheus --config.file="$RUN/prometheus.yml" --storage.tsdb.path="$RUN/data" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --log.level=warn >"$RUN/prometheus.log" 2>&1 &
  echo $! > "$PIDFILE"
  for _ in $(seq 1 50); do
    if curl -fsS "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null 2>&1; then
      log "running (pid $(cat "$PIDFILE")) on http://127.0.0.1:$PROMETHEUS_PORT, watching $work"
      return 0
    fi
    sleep 0.2
  done
  stop
  die "Prometheus did not become ready; see $RUN/prometheus.log"
}

stop() {
  if running; then
    local pid
    pid="$(cat "$PIDFILE")"
    kill "$pid"
    # Gone before a start after it binds the same port.
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    log "stopped"
  else
    log "not running"
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop ;;
  status) if running; then echo "running pid=$(cat "$PIDFILE") http://127.0.0.1:$PROMETHEUS_PORT"; else echo "stopped"; fi ;;
  query) curl -fsS --get "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/query" --data-urlencode "query=${2:?PROMQL}" ; echo ;;
  *) die "usage: prometheus.sh start WORK_DIR | stop | status | query PROMQL" ;;
esac
