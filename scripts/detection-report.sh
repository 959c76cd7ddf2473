#!/usr/bin/env bash
# Regenerates docs/DETECTION.md from scratch: the detectors and thresholds in
# force (ratioguard detect --describe), then the quality bar on simulated
# populations, each run end to end on the real engines:
#
#   fresh Postgres + ClickHouse databases rgqual_<pop> → ratioguard migrate →
#   sim replay (setup + tracker core on a simulated clock) to a fresh Kafka
#   topic → ratioguard ingest until the ClickHouse loader stored the topic's
#   end offsets → ratioguard detect --once over the whole simulated window →
#   ratioguard sim eval --json → the tables (ratioguard detect --quality).
#
# Usage: scripts/detection-report.sh [SPEC.yaml ...]
#   default: detectors/quality/specs/qual-{a,b,c}.yaml
# Environment: the engines of `source .stack/env` (only their host parts are
# used: every population gets its own databases, dropped at the end unless
# RG_QUAL_KEEP=1). RG_QUAL_DIR keeps the per-population JSON (default: a
# temporary directory). RG_QUAL_SKIP_PIPELINE=1 re-runs only detect + eval on
# databases kept by an earlier RG_QUAL_KEEP=1 run (for tuning).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[ -f .stack/env ] && [ -z "${RG_POSTGRES_URL:-}" ] && source .stack/env
: "${RG_POSTGRES_URL:?source .stack/env first}" "${RG_CLICKHOUSE_URL:?}" "${RG_KAFKA_BROKERS:?}"
specs=("$@")
[ "${#specs[@]}" -eq 0 ] && specs=(detectors/quality/specs/qual-a.yaml detectors/quality/specs/qual-b.yaml detectors/quality/specs/qual-c.yaml)
work=${RG_QUAL_DIR:-$(mktemp -d)}
mkdir -p "$work"
bin=$work/ratioguard
go build -o "$bin" ./cmd/ratioguard

pg_base=${RG_POSTGRES_URL%%\?*}; pg_base=${pg_base%/*}   # postgres://user:pw@host:port
pg_admin="$pg_base/postgres?sslmode=disable"
ch_base=${RG_CLICKHOUSE_URL%/*}                          # clickhouse://host:port
ch_hostport=${ch_base#clickhouse://}
ch_host=${ch_hostport%:*}; ch_port=${ch_hostport##*:}
kafka_cp="$root/.stack/kafka/libs/*"
log() { echo "[$(date +%T)] $*" >&2; }
chq() { clickhouse-client --host "$ch_host" --port "$ch_port" "$@"; }

delete_topic() {
  [ -d "$root/.stack/kafka/libs" ] || return 0
  java -cp "$kafka_cp" -Dlog4j2.configurationFile="$root/.stack/kafka/tools-log4j2.properties" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "${RG_KAFKA_BROKERS%%,*}" --delete --topic "$1" >/dev/null 2>&1 || true
  # ingest creates the dead-letter topic next to it
  java -cp "$kafka_cp" -Dlog4j2.configurationFile="$root/.stack/kafka/tools-log4j2.properties" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "${RG_KAFKA_BROKERS%%,*}" --delete --topic "$1.dlq" >/dev/null 2>&1 || true
}

# pipeline SPEC DB TOPIC: everything up to the reports, timings to $work/$db.times.
pipeline() {
  local spec=$1 db=$2 topic=$3 t0 events ingest_pid n
  psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  chq -q "DROP DATABASE IF EXISTS $db"
  "$bin" migrate >/dev/null
  t0=$(date +%s)
  "$bin" sim replay --spec "$spec" --topic "$topic" --json 2>"$work/$db.replay.log" >"$work/$db.replay.json"
  events=$(jq .events "$work/$db.replay.json")
  printf "replay_s=%s\nevents=%s\n" "$(( $(date +%s) - t0 ))" "$events" >"$work/$db.times"
  log "$db: replayed $events events to $topic; ingesting"
  t0=$(date +%s)
  # The simulated clock is in the past: keep the ledger's dedupe horizon wider than the run's age.
  "$bin" ingest --topic "$topic" --dedupe-horizon 87600h >"$work/$db.ingest.log" 2>&1 &
  ingest_pid=$!
  while :; do
    n=$(chq -d "$db" -q "SELECT toUInt64(sum(n)) FROM (SELECT partition, max(next_offset) AS n FROM ingest_offsets WHERE consumer = 'clickhouse' AND topic = '$topic' GROUP BY partition)" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge "$events" ] && break
    kill -0 "$ingest_pid" 2>/dev/null || { log "ingest died: $(tail -5 "$work/$db.ingest.log")"; return 1; }
    sleep 2
  done
  kill "$ingest_pid"; wait "$ingest_pid" 2>/dev/null || true
  echo "ingest_s=$(( $(date +%s) - t0 ))" >>"$work/$db.times"
  delete_topic "$topic"
}

# detect SPEC DB: one pass over the whole simulated window, then the evaluation.
detect() {
  local spec=$1 db=$2 from until run t0
  from=$(jq -r .sim_start "$work/$db.replay.json"); until=$(jq -r .sim_end "$work/$db.replay.json")
  run=$(psql -Atq "$RG_POSTGRES_URL" -c "SELECT run FROM sim_runs ORDER BY created_at DESC LIMIT 1")
  psql -q "$RG_POSTGRES_URL" -c "DELETE FROM cheat_reports" >/dev/null
  t0=$(date +%s)
  "$bin" detect --once --since "$from" --until "$until" --json 2>"$work/$db.detect.log" >"$work/$db.detect.json"
  sed -i '/^detect_s=/d' "$work/$db.times"; echo "detect_s=$(( $(date +%s) - t0 ))" >>"$work/$db.times"
  "$bin" sim eval --run "$run" --json >"$work/$db.eval.json"
  log "$db: detect + eval done ($run)"
}

evals=()
for spec in "${specs[@]}"; do
  name=$(basename "$spec" .yaml); db=rgqual_${name//[^a-z0-9]/_}
  export RG_POSTGRES_URL="$pg_base/$db?sslmode=disable" RG_CLICKHOUSE_URL="$ch_base/$db"
  if [ -z "${RG_QUAL_SKIP_PIPELINE:-}" ]; then
    pipeline "$spec" "$db" "rgqual.$name.$(date +%s)"
  fi
  detect "$spec" "$db"
  evals+=("$spec=$work/$db.eval.json=$work/$db.times")
  if [ -z "${RG_QUAL_KEEP:-}" ]; then
    psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $db" >/dev/null
    chq -q "DROP DATABASE IF EXISTS $db"
  fi
done

out=docs/DETECTION.md
{
  echo "# Detection"
  echo
  echo "Generated by \`scripts/detection-report.sh${*:+ $*}\` on $(date -u +%Y-%m-%d) — do not edit by hand."
  echo
  "$bin" detect --describe
  echo
  "$bin" detect --quality "${evals[@]}"
} >"$out.tmp"
mv "$out.tmp" "$out"
log "wrote $out (work files in $work)"
