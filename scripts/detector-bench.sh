#!/usr/bin/env bash
# Times detector passes over an existing database (e.g. a large replay) and,
# in the same run, two plain ClickHouse scans of the same table as the
# baseline. Prints a Markdown table for docs/BENCHMARKS.md ("Detectors").
#
# Usage: scripts/detector-bench.sh DB
#        scripts/detector-bench.sh --build DB [COPIES]
#   RG_BENCH_BIN: time that binary instead of building this tree.
#   RG_BENCH_PASSES: which passes, in order (default "full incremental hour
#   backfill"); RG_BENCH_NO_BASELINE=1 skips the two plain scans.
#   DB: a Postgres and a ClickHouse database of that name on the engines of
#   `source .stack/env` (ratioguard migrate'd, announces loaded).
#   --build: (re)create DB as docs/BENCHMARKS.md "Detectors" describes —
#   `sim replay` of detectors/quality/specs/qual-c.yaml to a fresh Kafka
#   topic, `ratioguard ingest` into DB_base, then COPIES (default 30) copies
#   of its rows into DB with member and torrent ids shifted by 10,000 per
#   copy (INSERT ... SELECT inside ClickHouse), then the rollups built from
#   them (one `detect --once --detectors invite_tree` pass: its rollup
#   refresh). Prints the time of each step.
# Passes, each ending at the newest announce U:
#   full        ratioguard detect --once --until U (every detector over its own lookback)
#   backfill    ratioguard detect --once --since U-30d --until U (every detector over 30 days)
#   incremental ratioguard detect --once --until M --active-since M-5m, M
#               half an hour before the last full hour H <= U: a typical
#               5-minute pass (hourly detectors such as account_selling skip it)
#   incremental at the hour  the same, ending at H: the pass that also runs
#               the hourly detectors over the members active in that hour
# Reports are deleted before each pass so every pass does the same writes.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .stack/env ] && [ -z "${RG_POSTGRES_URL:-}" ] && source .stack/env
BUILD=; if [ "${1:-}" = --build ]; then BUILD=1; shift; fi
db=${1:?usage: scripts/detector-bench.sh [--build] DB}
pg_base=${RG_POSTGRES_URL%%\?*}; pg_base=${pg_base%/*}
ch_base=${RG_CLICKHOUSE_URL%/*}; ch_hostport=${ch_base#clickhouse://}
export RG_POSTGRES_URL="$pg_base/$db?sslmode=disable" RG_CLICKHOUSE_URL="$ch_base/$db"
chq() { clickhouse-client --host "${ch_hostport%:*}" --port "${ch_hostport##*:}" -d "$db" "$@"; }
bin=${RG_BENCH_BIN:-}   # a ratioguard binary to time instead of this tree's (e.g. an older commit's, as the "before")
if [ -z "$bin" ]; then bin=$(mktemp -d)/ratioguard; go build -o "$bin" ./cmd/ratioguard; fi

# delete_topics T...: drop Kafka topics this script created (with the tools of .stack/kafka, if present).
delete_topics() {
  [ -d .stack/kafka/libs ] || return 0
  local t
  for t in "$@"; do
    java -cp '.stack/kafka/libs/*' -Dlog4j2.configurationFile=.stack/kafka/tools-log4j2.properties \
      org.apache.kafka.tools.TopicCommand --bootstrap-server "${RG_KAFKA_BROKERS%%,*}" --delete --topic "$t" >/dev/null 2>&1 || true
  done
}
if [ "${BUILD:-}" = 1 ]; then
  copies=${2:-30}
  base=${db}_base topic="rgbench.$db.$(date +%s)"
  cols="event_id, producer_id, sequence, kafka_partition, kafka_offset, schema_version, time, time_ms, user_id, torrent_id, info_hash, peer_id, ip, ip_family, network, port, user_agent, key, param_order, event, numwant, uploaded, downloaded, left, corrupt, delta_uploaded, delta_downloaded, credited_uploaded, credited_downloaded, promotion, promo_download_percent, promo_upload_percent, seconds_since_previous, seedtime_seconds, snatch, counter_reset, dual_stack_duplicate, seeders, leechers, result, refusal"
  fresh() { psql -q "$pg_base/postgres?sslmode=disable" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
    clickhouse-client --host "${ch_hostport%:*}" --port "${ch_hostport##*:}" -q "DROP DATABASE IF EXISTS $1"
    RG_POSTGRES_URL="$pg_base/$1?sslmode=disable" RG_CLICKHOUSE_URL="$ch_base/$1" "$bin" migrate >/dev/null; }
  fresh "$base"; fresh "$db"
  export RG_POSTGRES_URL="$pg_base/$base?sslmode=disable" RG_CLICKHOUSE_URL="$ch_base/$base"
  t0=$(date +%s)
  replay_log=$(mktemp)
  events=$("$bin" sim replay --spec detectors/quality/specs/qual-c.yaml --topic "$topic" --json 2>"$replay_log" | jq .events) || true
  [ -n "$events" ] || { echo "sim replay failed: $(tail -c 500 "$replay_log")" >&2; exit 1; }
  echo "replay: $events events in $(( $(date +%s) - t0 )) s"
  t0=$(date +%s)
  "$bin" ingest --topic "$topic" --dedupe-horizon 87600h >/dev/null 2>&1 &
  ingest_pid=$!
  until [ "$(clickhouse-client --host "${ch_hostport%:*}" --port "${ch_hostport##*:}" -d "$base" -q "SELECT toUInt64(sum(n)) FROM (SELECT partition, max(next_offset) AS n FROM ingest_offsets WHERE consumer = 'clickhouse' AND topic = '$topic' GROUP BY partition)" 2>/dev/null || echo 0)" -ge "$events" ]; do
    kill -0 "$ingest_pid" || { echo "ingest died" >&2; exit 1; }
    sleep 2
  done
  kill "$ingest_pid"; wait "$ingest_pid" 2>/dev/null || true
  echo "ingest: $(( $(date +%s) - t0 )) s"
  delete_topics "$topic" "$topic.dlq"
  export RG_POSTGRES_URL="$pg_base/$db?sslmode=disable" RG_CLICKHOUSE_URL="$ch_base/$db"
  t0=$(date +%s)
  for k in $(seq 0 $((copies - 1))); do
    chq -q "INSERT INTO announces ($cols) SELECT ${cols/user_id, torrent_id/user_id + $((k * 10000)), torrent_id + $((k * 10000))} FROM $base.announces"
  done
  echo "copies: $copies in $(( $(date +%s) - t0 )) s"
  t0=$(date +%s)
  "$bin" detect --once --detectors invite_tree >/dev/null
  echo "rollups: built in $(( $(date +%s) - t0 )) s"
  exit 0
fi

until=$(chq -q "SELECT toUnixTimestamp(max(time)) + 1 FROM announces")
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
U=$(iso "$until")
rows=$(chq -q "SELECT count() FROM announces WHERE time >= toDateTime($until - 30*86400)")
members=$(chq -q "SELECT uniqExact(user_id) FROM announces WHERE time >= toDateTime($until - 30*86400)")
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc | awk '{printf "%.2f", $1}'; }

base_count=- base_group=-
[ -z "${RG_BENCH_NO_BASELINE:-}" ] && base_count=$(secs chq -q "SELECT count() FROM announces WHERE time >= toDateTime($until - 30*86400)")
[ -z "${RG_BENCH_NO_BASELINE:-}" ] && base_group=$(secs chq -q "SELECT user_id, torrent_id, sum(delta_uploaded), max(left) FROM announces WHERE time >= toDateTime($until - 30*86400) GROUP BY user_id, torrent_id FORMAT Null")

pass() { # name args... (PASS_UNTIL: end of the pass, default U)
  local name=$1 t0 t1 until_iso=${PASS_UNTIL:-$U}; shift
  psql -q "$RG_POSTGRES_URL" -c "DELETE FROM cheat_reports" >/dev/null
  t0=$(date +%s.%N)
  "$bin" detect --once --until "$until_iso" --json "$@" 2>"$work/$name.err" >"$work/$name.json" || echo "pass $name failed: $(tail -c 300 "$work/$name.err")" >&2
  t1=$(date +%s.%N)
  echo "| $name | $(echo "$t1 - $t0" | bc | awk '{printf "%.1f", $1}') | $(jq -r '[.[] | if .skipped then "\(.detector) skipped" else "\(.detector) \(.duration_ns/1e9*10|round/10)" end] | join(", ")' "$work/$name.json") | $(jq '[.[].findings] | add' "$work/$name.json") |"
}
work=$(mktemp -d)
echo "Database \`$db\`: $rows announces of $members members in the 30 days before $U; $(nproc) cores."
echo
echo "| what | seconds | per detector (s) | reports |"
echo "|---|---:|---|---:|"
echo "| baseline: \`SELECT count()\` of the 30 days | $base_count | | |"
echo "| baseline: \`GROUP BY user_id, torrent_id\` over the 30 days (sum, max) | $base_group | | |"
hour=$((until / 3600 * 3600)); mid=$((hour - 1800))
# The detectors `detect` schedules every pass (all but the periodic account_selling; detectors.SplitPeriodic).
every_pass=$("$bin" detect --describe | sed -n 's/^### .*(`\([a-z_]*\)`)$/\1/p' | grep -vx account_selling | paste -sd, -)
for p in ${RG_BENCH_PASSES:-full incremental hour backfill}; do
  case $p in
  full) pass full ;;
  incremental) PASS_UNTIL=$(iso $mid) pass incremental --active-since "$(iso $((mid - 300)))" ;;
  hour) PASS_UNTIL=$(iso $hour) pass "incremental at the hour" --active-since "$(iso $((hour - 300)))" ;;
  hour-split) # what the scheduler runs at the hour: the every-pass detectors and, beside them, the periodic ones
    PASS_UNTIL=$(iso $hour) pass "incremental at the hour, every-pass scheduler" --active-since "$(iso $((hour - 300)))" --detectors "$every_pass" --priority 1 &
    split_pid=$!
    sleep 0.2 # after the other's DELETE of the reports
    PASS_UNTIL=$(iso $hour) pass "incremental at the hour, periodic scheduler (beside it)" --active-since "$(iso $((hour - 300)))" --detectors account_selling --priority 10
    wait "$split_pid" ;;
  backfill) [ -z "${RG_BENCH_NO_BACKFILL:-}" ] && pass backfill --since "$(iso $((until - 30 * 86400)))" ;;
  *) echo "unknown pass $p" >&2; exit 2 ;;
  esac
done
