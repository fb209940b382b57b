#!/usr/bin/env bash
# Apache Kafka 4.x, single node, KRaft mode, on loopback, for development and tests.
#
#   deploy/local/kafka.sh install   fetch the broker's jars from Maven Central (idempotent)
#   deploy/local/kafka.sh start     format storage once, start, wait until it answers (idempotent)
#   deploy/local/kafka.sh stop      stop the broker started by this script (by its pid)
#   deploy/local/kafka.sh status    say whether it runs and where
#   deploy/local/kafka.sh restart   stop, then start (same storage)
#   deploy/local/kafka.sh wipe      stop and delete the broker's storage
#
# Environment (defaults in brackets):
#   KAFKA_VERSION      [4.1.1]
#   KAFKA_PORT         [9092]    client listener, 127.0.0.1 only
#   KAFKA_CONTROLLER_PORT [KAFKA_PORT+1]
#   KINDRED_CACHE      [$HOME/.cache/kindred]  jars and broker storage live under it
#   KAFKA_START_TIMEOUT [90]     seconds `start` waits for the broker to answer
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KINDRED_CACHE="${KINDRED_CACHE:-$HOME/.cache/kindred}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
LOG4J_VERSION="2.24.3"
SLF4J_VERSION="2.0.17"

DIST="$KINDRED_CACHE/kafka-$KAFKA_VERSION"
LIBS="$DIST/libs"
RUN="$KINDRED_CACHE/kafka-run-$KAFKA_PORT"
DATA="$RUN/data"
PIDFILE="$RUN/kafka.pid"
LOGFILE="$RUN/kafka.log"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_java() {
  command -v java >/dev/null || die "java not found: install a Java 17 runtime (apt-get install -y openjdk-17-jre-headless)"
}

install() {
  if [ -f "$LIBS/.complete" ]; then
    log "Kafka $KAFKA_VERSION already installed in $DIST"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install -y maven)"
  need_java
  mkdir -p "$DIST"
  # A throw-away POM whose runtime closure is the broker: Kafka's core (kafka_2.13,
  # which brings the server, raft, metadata, storage and clients modules and Scala),
  # plus a log4j2 back end for its slf4j logging (slf4j 2 pinned, as Kafka ships it).
  cat > "$DIST/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.kindred.local</groupId>
  <artifactId>kafka-broker-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  log "fetching Apache Kafka $KAFKA_VERSION and its runtime dependencies from Maven Central"
  rm -rf "$LIBS.tmp"
  mvn -B -q -Dstyle.color=never -f "$DIST/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp" \
      || die "mvn could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION"
  rm -rf "$LIBS" && mv "$LIBS.tmp" "$LIBS"
  touch "$LIBS/.complete"
  log "installed $(ls "$LIBS" | wc -l) jars in $LIBS"
}

classpath() { printf '%s/*' "$LIBS"; }

write_config() {
  mkdir -p "$RUN"
  cat > "$RUN/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
log.segment.bytes=67108864
log.cleaner.dedupe.buffer.size=16777216
PROPS
  cat > "$RUN/log4j2.properties" <<LOG
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $LOGFILE
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
LOG
}

is_running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

answers() {
  # The broker answers when its client port accepts connections and it has
  # logged that it started; bash's /dev/tcp avoids needing any client tool.
  (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null || return 1
  grep -q 'Kafka Server started\|\[KafkaRaftServer nodeId=1\] Kafka Server started' "$LOGFILE" 2>/dev/null
}

java_run() {
  local main="$1"; shift
  java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
       -Dlog4j2.configurationFile="$RUN/log4j2.properties" \
       -cp "$(classpath)" "$main" "$@"
}

start() {
  need_java
  [ -f "$LIBS/.complete" ] || install
  if is_running; then
    log "already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$KAFKA_PORT"
    wait_ready
    return 0
  fi
  write_config
  if [ ! -f "$DATA/meta.properties" ]; then
    log "formatting storage in $DATA"
    mkdir -p "$DATA"
    java_run kafka.tools.StorageTool format \
        -t "$(java_run kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)" \
        -c "$RUN/server.properties" --ignore-formatted >>"$RUN/format.log" 2>&1 \
      || { cat "$RUN/format.log" >&2; die "formatting storage failed (see $RUN/format.log)"; }
  fi
  : >"$LOGFILE"
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (log: $LOGFILE)"
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
       -Dlog4j2.configurationFile="$RUN/log4j2.properties" \
       -cp "$(classpath)" kafka.Kafka "$RUN/server.properties" \
       >"$RUN/stdout.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  wait_ready
}

wait_ready() {
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  until answers; do
    if ! is_running; then
      tail -n 40 "$RUN/stdout.log" "$LOGFILE" >&2 2>/dev/null || true
      die "broker exited during start-up"
    fi
    [ $SECONDS -lt $deadline ] || die "broker did not answer on 127.0.0.1:$KAFKA_PORT within ${KAFKA_START_TIMEOUT}s (see $LOGFILE)"
    sleep 0.5
  done
  log "ready on 127.0.0.1:$KAFKA_PORT (pid $(cat "$PIDFILE"))"
}

stop() {
  if ! is_running; then
    log "not running"
    rm -f "$PIDFILE"
    return 0
  fi
  local pid; pid="$(cat "$PIDFILE")"
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; log "stopped"; return 0; }
    sleep 0.5
  done
  log "still running after 30s: killing"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}

status() {
  if is_running; then
    echo "running pid=$(cat "$PIDFILE") bootstrap=127.0.0.1:$KAFKA_PORT data=$DATA"
  else
    echo "stopped (installed: $([ -f "$LIBS/.complete" ] && echo yes || echo no))"
    return 3
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  wipe) stop; rm -rf "$RUN"; log "wiped $RUN" ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
