#!/usr/bin/env bash
# Apache Kafka 4.x, single node, KRaft mode, on loopback, for development and tests.
#
#   deploy/local/kafka.sh install   fetch the broker's jars, and those of `java-client`, from Maven
#                                   Central (idempotent)
#   deploy/local/kafka.sh start     format storage once, start, wait until it answers (idempotent)
#   deploy/local/kafka.sh stop      stop the broker started by this script (by its pid)
#   deploy/local/kafka.sh status    say whether it runs and where
#   deploy/local/kafka.sh restart   stop, then start (same storage)
#   deploy/local/kafka.sh wipe      stop and delete the broker's storage
#   deploy/local/kafka.sh topics    list the broker's topics, one per line
#   deploy/local/kafka.sh logs [N]  print the last N (40) lines of the broker's log
#   deploy/local/kafka.sh delete-run-topics BEFORE  delete the topics created since
#                                   BEFORE (a `topics` listing) whose names end in a
#                                   test's run id (`retail.pos.events.<test>-<pid>-<nanos>`):
#                                   what a test run leaves on a broker it did not start
#   deploy/local/kafka.sh secure-env  print shell exports that point kindred at the
#                                   SASL_SSL listener: eval "$(deploy/local/kafka.sh secure-env)"
#   deploy/local/kafka.sh tool CLASS [ARGS...]  run one of Kafka's own Java tools with the
#                                   installed jars, e.g. org.apache.kafka.tools.ConsoleProducer
#                                   (the tests use it as a client that is not librdkafka)
#   deploy/local/kafka.sh java-client SOURCE.java [ARGS...]  run a single-file Java program
#                                   with Kafka's Java client and the Apache Avro Java library
#                                   on its class path (tests/interop: a channel system and a
#                                   downstream consumer that share no code with kindred);
#                                   `install` fetches those jars too
#
# Two client listeners: PLAINTEXT on KAFKA_PORT, and SASL_SSL (TLS, SCRAM-SHA-512)
# on KAFKA_SECURE_PORT. `start` generates (once) under $RUN/tls a self-signed CA
# (ca.pem), the broker's certificate for 127.0.0.1 and localhost, and the SCRAM
# user's random password (scram.password, mode 600), and creates that user on the
# broker; a broker started by an older script gets the listener on `restart`.
#
# Environment (defaults in brackets):
#   KAFKA_VERSION      [4.1.1]
#   AVRO_VERSION       [1.12.2]  the Avro Java library of `java-client`
#   KAFKA_PORT         [9092]    PLAINTEXT client listener, 127.0.0.1 only
#   KAFKA_CONTROLLER_PORT [KAFKA_PORT+1]
#   KAFKA_SECURE_PORT  [KAFKA_PORT+2]  SASL_SSL client listener, 127.0.0.1 only
#   KAFKA_SCRAM_USER   [kindred] the SCRAM user `start` creates
#   KINDRED_CACHE      [$HOME/.cache/kindred]  jars and broker storage live under it
#   KAFKA_START_TIMEOUT [90]     seconds `start` waits for the broker to answer
#   KAFKA_RUN_DIR      [$KINDRED_CACHE/kafka-run-$KAFKA_PORT]  data, log, pid and TLS files
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_SECURE_PORT="${KAFKA_SECURE_PORT:-$((KAFKA_PORT + 2))}"
KAFKA_SCRAM_USER="${KAFKA_SCRAM_USER:-kindred}"
SCRAM_MECHANISM="SCRAM-SHA-512"
KINDRED_CACHE="${KINDRED_CACHE:-$HOME/.cache/kindred}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
LOG4J_VERSION="2.24.3"
SLF4J_VERSION="2.0.17"
AVRO_VERSION="${AVRO_VERSION:-1.12.2}"

DIST="$KINDRED_CACHE/kafka-$KAFKA_VERSION"
LIBS="$DIST/libs"
# Kafka's Java client and Avro's Java library (`java-client`).
CLIENT_LIBS="$KINDRED_CACHE/java-clients-$KAFKA_VERSION-avro-$AVRO_VERSION/libs"
# Broker data, logs and TLS files; test.sh gives the broker it starts a
# directory of its own (KAFKA_RUN_DIR), so a developer's stopped broker is
# never the one it wipes.
RUN="${KAFKA_RUN_DIR:-$KINDRED_CACHE/kafka-run-$KAFKA_PORT}"
DATA="$RUN/data"
PIDFILE="$RUN/kafka.pid"
LOGFILE="$RUN/kafka.log"
TLS="$RUN/tls"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_java() {
  command -v java >/dev/null || die "java not found: install a Java 17 runtime (apt-get install -y openjdk-17-jre-headless)"
}

install() {
  # The broker: Kafka's core (kafka_2.13, which brings the server, raft,
  # metadata, storage and clients modules and Scala), plus a log4j2 back end
  # for its slf4j logging (slf4j 2 pinned, as Kafka ships it).
  install_jars "$LIBS" "Apache Kafka $KAFKA_VERSION" \
    "org.apache.kafka:kafka_2.13:$KAFKA_VERSION" \
    "org.apache.kafka:kafka-tools:$KAFKA_VERSION" \
    "org.slf4j:slf4j-api:$SLF4J_VERSION" \
    "org.apache.logging.log4j:log4j-slf4j2-impl:$LOG4J_VERSION" \
    "org.apache.logging.log4j:log4j-core:$LOG4J_VERSION"
  install_clients
}

# `java-client`'s class path, apart from the broker's (Avro brings its own
# Jackson, which the broker must not see).
install_clients() {
  install_jars "$CLIENT_LIBS" "Kafka's Java client $KAFKA_VERSION and Apache Avro $AVRO_VERSION" \
    "org.apache.kafka:kafka-clients:$KAFKA_VERSION" \
    "org.apache.avro:avro:$AVRO_VERSION" \
    "org.slf4j:slf4j-api:$SLF4J_VERSION" \
    "org.slf4j:slf4j-simple:$SLF4J_VERSION"
}

# install_jars DIR WHAT GROUP:ARTIFACT:VERSION...: the runtime closure of
# those artifacts from Maven Central into DIR, through a throw-away POM
# (DIR/pom.xml) beside it. Idempotent: DIR is replaced whole and marked
# complete only when every jar came.
install_jars() {
  local out="$1" what="$2" deps="" dep g a v
  shift 2
  if [ -f "$out/.complete" ]; then
    log "$what already installed in $out"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install -y maven)"
  need_java
  mkdir -p "$(dirname "$out")"
  # One install at a time (tests start `java-client` in parallel); the one
  # that waited finds the jars there.
  local lock
  exec {lock}>"$(dirname "$out")/.install.lock"
  flock "$lock"
  if [ -f "$out/.complete" ]; then
    exec {lock}>&-
    return 0
  fi
  for dep in "$@"; do
    IFS=: read -r g a v <<<"$dep"
    deps+="    <dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"$'\n'
  done
  local pom; pom="$(dirname "$out")/pom.xml"
  cat > "$pom" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.kindred.local</groupId>
  <artifactId>$(basename "$(dirname "$out")")</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
$deps  </dependencies>
</project>
POM
  log "fetching $what (and what they need) from Maven Central"
  rm -rf "$out.tmp"
  # -C: a jar whose checksum does not match Maven Central's fails the
  # install (Maven's default only warns, and -q hides the warning). Its
  # output goes to stderr: stdout is the `java-client` program's.
  mvn -B -q -C -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$out.tmp" >&2 \
      || die "mvn could not fetch $*"
  rm -rf "$out" && mv "$out.tmp" "$out"
  touch "$out/.complete"
  exec {lock}>&-
  log "installed $(ls "$out" | wc -l) jars in $out"
}

classpath() { printf '%s/*' "$LIBS"; }

write_config() {
  mkdir -p "$RUN"
  # Mode 600 (mktemp's): it holds the keystore's password. Written aside and
  # renamed, so concurrent starts (tests of several clones share the broker)
  # never interleave their writes.
  local props; props="$(mktemp "$RUN/.server.properties.XXXXXX")"
  cat > "$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT,SASL_SSL://127.0.0.1:$KAFKA_SECURE_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_SSL://127.0.0.1:$KAFKA_SECURE_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=$SCRAM_MECHANISM
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$TLS/broker.p12
listener.name.sasl_ssl.ssl.keystore.password=$(cat "$TLS/keystore.password")
listener.name.sasl_ssl.ssl.client.auth=none
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
group.consumer.min.session.timeout.ms=6000
group.consumer.session.timeout.ms=15000
auto.create.topics.enable=false
log.retention.hours=168
log.segment.bytes=67108864
log.cleaner.dedupe.buffer.size=16777216
PROPS
  mv -f "$props" "$RUN/server.properties"
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
  # The command-line tools (kafka.admin.ConfigCommand) log warnings to stderr,
  # not into the broker's log.
  cat > "$RUN/tools-log4j2.properties" <<LOG
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
LOG
}

# The SASL_SSL listener's files, generated once and kept (idempotent): a
# self-signed CA, the broker's key and certificate signed by it (SAN
# IP:127.0.0.1 and DNS:localhost) in a PKCS12 keystore with a random password,
# and the SCRAM user's random password. Secrets are mode 600 in a mode 700
# directory; ca.pem is what clients need to verify the broker.
ensure_tls() {
  command -v openssl >/dev/null \
    || die "openssl not found: install it (apt-get install -y openssl, or deploy/local/setup.sh)"
  mkdir -p "$TLS"
  chmod 700 "$TLS"
  local old_umask; old_umask="$(umask)"
  umask 077
  local olog="$TLS/openssl.log"
  if [ ! -s "$TLS/ca.key" ] || [ ! -s "$TLS/ca.pem" ] \
     || ! openssl x509 -in "$TLS/ca.pem" -noout -checkend 86400 >/dev/null 2>&1; then
    log "generating a self-signed CA in $TLS"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -subj "/CN=kindred local development CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$TLS/ca.key" -out "$TLS/ca.pem" >"$olog" 2>&1 \
      || { cat "$olog" >&2; die "openssl could not create the CA"; }
    rm -f "$TLS/broker.pem"
  fi
  if [ ! -s "$TLS/broker.key" ] || [ ! -s "$TLS/broker.pem" ] \
     || ! openssl verify -CAfile "$TLS/ca.pem" "$TLS/broker.pem" >/dev/null 2>&1 \
     || ! openssl x509 -in "$TLS/broker.pem" -noout -checkend 86400 >/dev/null 2>&1; then
    log "issuing the broker's certificate (127.0.0.1, localhost) in $TLS"
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
        >"$TLS/broker.ext"
    { openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
          -keyout "$TLS/broker.key" -out "$TLS/broker.csr" \
      && openssl x509 -req -sha256 -days 825 -in "$TLS/broker.csr" \
          -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
          -extfile "$TLS/broker.ext" -out "$TLS/broker.pem"; } >"$olog" 2>&1 \
      || { cat "$olog" >&2; die "openssl could not issue the broker's certificate"; }
    rm -f "$TLS/broker.csr" "$TLS/broker.p12"
  fi
  if [ ! -s "$TLS/keystore.password" ]; then
    openssl rand -hex 24 >"$TLS/keystore.password"
    rm -f "$TLS/broker.p12"
  fi
  if [ ! -s "$TLS/broker.p12" ]; then
    openssl pkcs12 -export -name broker -in "$TLS/broker.pem" -inkey "$TLS/broker.key" \
        -certfile "$TLS/ca.pem" -passout "file:$TLS/keystore.password" \
        -out "$TLS/broker.p12" >"$olog" 2>&1 \
      || { cat "$olog" >&2; die "openssl could not write the broker's keystore"; }
  fi
  [ -s "$TLS/scram.password" ] || openssl rand -hex 24 >"$TLS/scram.password"
  chmod 644 "$TLS/ca.pem"
  umask "$old_umask"
}

secure_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_SECURE_PORT") 2>/dev/null; }

# Creates the SCRAM user on the running broker, through the PLAINTEXT listener
# (KRaft keeps SCRAM credentials in the cluster metadata). Done again only when
# the storage (cluster id), the user or the password changed, so storage
# formatted by an older script gets the user too. The password goes to
# kafka-configs in a mode 600 file, never on a command line.
ensure_scram_user() {
  local cluster want
  cluster="$(sed -n 's/^cluster\.id=//p' "$DATA/meta.properties" 2>/dev/null)"
  want="$cluster $KAFKA_SCRAM_USER $SCRAM_MECHANISM $(sha256sum <"$TLS/scram.password" | cut -d' ' -f1)"
  if [ -f "$TLS/scram.created" ] && [ "$(cat "$TLS/scram.created")" = "$want" ]; then
    return 0
  fi
  log "creating SCRAM user $KAFKA_SCRAM_USER ($SCRAM_MECHANISM)"
  local add="$TLS/scram.add.properties" out
  # In a file, a credential is MECHANISM=password=... (no brackets, unlike --add-config).
  (umask 077 && printf '%s=password=%s\n' "$SCRAM_MECHANISM" "$(cat "$TLS/scram.password")" >"$add")
  if ! out="$(java -Xms64m -Xmx256m -Djava.awt.headless=true \
         -Dlog4j2.configurationFile="$RUN/tools-log4j2.properties" \
         -cp "$(classpath)" kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" \
         --alter --entity-type users --entity-name "$KAFKA_SCRAM_USER" --add-config-file "$add" 2>&1)"; then
    rm -f "$add"
    # kafka-configs may quote the credential in its error: never show the password.
    printf '%s\n' "$out" | sed "s/$(cat "$TLS/scram.password")/********/g" >&2
    die "could not create SCRAM user $KAFKA_SCRAM_USER"
  fi
  rm -f "$add"
  echo "$want" >"$TLS/scram.created"
}

# Shell exports that point kindred's Kafka clients at the SASL_SSL listener
# (see `kindred config check`). The password is read from its file when the
# output is evaluated, so it is not printed.
secure_env() {
  [ -s "$TLS/ca.pem" ] && [ -s "$TLS/scram.password" ] \
    || die "no SASL_SSL listener set up in $RUN: run deploy/local/kafka.sh restart"
  is_running || die "the broker is not running: start it with deploy/local/kafka.sh start"
  secure_answers \
    || die "the running broker has no SASL_SSL listener on 127.0.0.1:$KAFKA_SECURE_PORT (started by an older kafka.sh?): run deploy/local/kafka.sh restart"
  cat <<ENV
# The local broker's SASL_SSL listener (TLS with the local CA, SCRAM user $KAFKA_SCRAM_USER).
# Use: eval "\$(deploy/local/kafka.sh secure-env)"
export KINDRED_KAFKA__BROKERS='127.0.0.1:$KAFKA_SECURE_PORT'
export KINDRED_KAFKA_CLIENT_SECURITY_PROTOCOL='SASL_SSL'
export KINDRED_KAFKA_CLIENT_SASL_MECHANISMS='$SCRAM_MECHANISM'
export KINDRED_KAFKA_CLIENT_SASL_USERNAME='$KAFKA_SCRAM_USER'
export KINDRED_KAFKA_CLIENT_SASL_PASSWORD="\$(cat '$TLS/scram.password')"
export KINDRED_KAFKA_CLIENT_SSL_CA_LOCATION='$TLS/ca.pem'
export KINDRED_KAFKA_CLIENT_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM='https'
ENV
}

is_running() {
  # The recorded pid counts only while it is this broker: pids wrap (a cold
  # build spawns thousands of processes), and a stale file naming another
  # process would otherwise be taken for a running broker, or signalled by
  # stop. A stale file is removed.
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka.*$RUN/server.properties"; then
    return 0
  fi
  rm -f "$PIDFILE"
  return 1
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
    if secure_answers && [ -s "$TLS/scram.password" ]; then
      ensure_scram_user
    else
      log "warning: it has no SASL_SSL listener on 127.0.0.1:$KAFKA_SECURE_PORT (started by an older kafka.sh): run deploy/local/kafka.sh restart"
    fi
    return 0
  fi
  ensure_tls
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
  # The classpath first: expanded inside the background child, the pid's
  # command line would not be the broker's for a moment.
  local cp
  cp="$(classpath)"
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
       -Dlog4j2.configurationFile="$RUN/log4j2.properties" \
       -cp "$cp" kafka.Kafka "$RUN/server.properties" \
       >"$RUN/stdout.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  wait_ready
  secure_answers || die "the broker did not open its SASL_SSL listener on 127.0.0.1:$KAFKA_SECURE_PORT (see $LOGFILE)"
  ensure_scram_user
  log "SASL_SSL ($SCRAM_MECHANISM, user $KAFKA_SCRAM_USER) on 127.0.0.1:$KAFKA_SECURE_PORT, CA $TLS/ca.pem"
}

wait_ready() {
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  until answers; do
    # The process just started (its pid file is ours): alive is enough here.
    if ! { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }; then
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
    local secure="none (run deploy/local/kafka.sh restart)"
    secure_answers && secure="127.0.0.1:$KAFKA_SECURE_PORT"
    echo "running pid=$(cat "$PIDFILE") bootstrap=127.0.0.1:$KAFKA_PORT sasl_ssl=$secure data=$DATA"
  else
    echo "stopped (installed: $([ -f "$LIBS/.complete" ] && echo yes || echo no))"
    return 3
  fi
}

# One of Kafka's own Java tools, with the installed jars.
run_tool() {
  need_java
  [ -f "$LIBS/.complete" ] || install
  mkdir -p "$RUN"
  [ -f "$RUN/tools-log4j2.properties" ] || write_config
  java -Xms64m -Xmx256m -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$RUN/tools-log4j2.properties" \
    -cp "$(classpath)" "$@"
}

# A single-file Java program ($1) on Kafka's Java client and Avro's Java
# library; its log (slf4j-simple) goes to stderr at WARN and above.
run_java_client() {
  need_java
  # The source launcher compiles the program: a JDK's compiler module
  # (Debian's openjdk-17-jre-headless has it; some stand-alone JREs do not).
  java --list-modules | grep -q '^jdk.compiler@' \
    || die "java-client needs a Java with the jdk.compiler module (a JDK, or Debian's openjdk-17-jre-headless)"
  [ -f "$CLIENT_LIBS/.complete" ] || install_clients
  java -Xms64m -Xmx256m -Djava.awt.headless=true -Dfile.encoding=UTF-8 \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$CLIENT_LIBS/*" "$@"
}

# Kafka's own topic tool, on the PLAINTEXT listener.
topic_tool() {
  run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" "$@"
}

# The topics created since the listing in file $1 whose names end in a test's
# run id, `-<pid>-<nanoseconds>` (`retail.pos.events.pipeline-21584-1796176756571335366`,
# tests/support's isolated_config). Configured names hold none, Kafka's internal
# topics start with `_`, topics that existed before are never touched, and
# neither are a `kindred load` or `chaos` run's (their run ids have another shape).
delete_run_topics() {
  local before="$1" now new
  [ -f "$before" ] || die "usage: kafka.sh delete-run-topics BEFORE (a file from \`kafka.sh topics\`)"
  now="$(topic_tool --list)"
  new="$(comm -13 <(sort "$before") <(sort <<<"$now") | grep -E '^[^_].*\.[^.]*-[0-9]+-[0-9]{15,}$' || true)"
  if [ -z "$new" ]; then
    log "no run topics to delete"
    return 0
  fi
  log "deleting $(wc -l <<<"$new") run topics"
  # One regex for all of them: the tool starts a JVM per call.
  topic_tool --delete --topic "^($(paste -sd'|' <<<"$new" | sed 's/\./\\./g'))\$" >/dev/null
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  wipe) stop; rm -rf "$RUN"; log "wiped $RUN" ;;
  topics) topic_tool --list ;;
  logs) tail -n "${2:-40}" "$LOGFILE" ;;
  delete-run-topics) delete_run_topics "${2:-}" ;;
  secure-env) secure_env ;;
  tool)
    shift
    [ $# -ge 1 ] || die "usage: kafka.sh tool CLASS [ARGS...]"
    run_tool "$@"
    ;;
  java-client)
    shift
    [ $# -ge 1 ] || die "usage: kafka.sh java-client SOURCE.java [ARGS...]"
    run_java_client "$@"
    ;;
  *) sed -n '2,/^[^#]/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
