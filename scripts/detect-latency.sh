#!/usr/bin/env bash
# Cheat announce → open report latency, end to end on the real engines:
# `ratioguard all` (tracker → Kafka → ingest → ClickHouse; `detect` on its
# schedule, refreshing the rollups before each pass; reports in Postgres)
# driven in real time by `ratioguard sim live` with sim/specs/demo.yaml
# (every cheater kind starts cheating in the first minutes). For every
# labelled cheater that got a report: the report's created_at minus the
# cheater's first announce at or after its label's started_at (the first
# cheating announce), per detector. Prints a Markdown table for
# docs/BENCHMARKS.md ("Detectors").
#
# Usage: scripts/detect-latency.sh
#   LAT_INTERVAL  detector schedule (default 30s: the production 5m scaled
#                 down 10×, so a few minutes of traffic see several passes)
#   LAT_DURATION  live traffic (default 4m); the pipeline runs 2 intervals longer
#   RG_BENCH_BIN  a ratioguard binary to use instead of building this tree
# Uses its own databases (rglat) and ports (tracker 127.0.0.1:16969, staff UI
# 127.0.0.1:18080), so it runs beside the shared demo; they are dropped at
# the end unless LAT_KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .stack/env ] && [ -z "${RG_POSTGRES_URL:-}" ] && source .stack/env
interval=${LAT_INTERVAL:-30s}
duration=${LAT_DURATION:-4m}
db=rglat
work=$(mktemp -d)
bin=${RG_BENCH_BIN:-}
if [ -z "$bin" ]; then bin=$work/ratioguard; go build -o "$bin" ./cmd/ratioguard; fi
pg_base=${RG_POSTGRES_URL%%\?*}; pg_base=${pg_base%/*}
ch_base=${RG_CLICKHOUSE_URL%/*}; ch_hostport=${ch_base#clickhouse://}
chq() { clickhouse-client --host "${ch_hostport%:*}" --port "${ch_hostport##*:}" "$@"; }
log() { echo "[$(date +%T)] $*" >&2; }
secs() { local s=${1%s} m; case $1 in *m) m=${1%m}; echo $((m * 60));; *) echo "$s";; esac; }

psql -q "$pg_base/postgres?sslmode=disable" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
chq -q "DROP DATABASE IF EXISTS $db"
export RG_POSTGRES_URL="$pg_base/$db?sslmode=disable" RG_CLICKHOUSE_URL="$ch_base/$db"
export RG_TRACKER_ADDR=127.0.0.1:16969 RG_REPORTS_ADDR=127.0.0.1:18080
"$bin" migrate >/dev/null
topic="rglat_$(date +%s)"

"$bin" all --admin-addr 127.0.0.1:16970 \
  --tracker-flags "--trusted-proxies 127.0.0.0/8 --interval 15s --jitter 3s --min-interval 5s --topic $topic --create-topic 4 --spool-dir $work/spool" \
  --ingest-flags "--topic $topic" \
  --detect-flags "--interval $interval --json" \
  --without enforce,reports >"$work/all.log" 2>&1 &
all_pid=$!
cleanup() {
  kill -TERM "$all_pid" 2>/dev/null && wait "$all_pid" 2>/dev/null || true
  if [ -d .stack/kafka/libs ]; then
    for t in "$topic" "$topic.dlq"; do
      java -cp '.stack/kafka/libs/*' -Dlog4j2.configurationFile=.stack/kafka/tools-log4j2.properties \
        org.apache.kafka.tools.TopicCommand --bootstrap-server "${RG_KAFKA_BROKERS%%,*}" --delete --topic "$t" >/dev/null 2>&1 || true
    done
  fi
  if [ -z "${LAT_KEEP:-}" ]; then
    psql -q "$pg_base/postgres?sslmode=disable" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    chq -q "DROP DATABASE IF EXISTS $db" || true
  fi
}
trap cleanup EXIT
for _ in $(seq 120); do
  curl -fsS "http://127.0.0.1:16970/readyz" >/dev/null 2>&1 && break
  kill -0 "$all_pid" 2>/dev/null || { log "pipeline died: $(tail -20 "$work/all.log")"; exit 1; }
  sleep 0.5
done
log "pipeline up (detect every $interval; log $work/all.log); live traffic for $duration"
"$bin" sim live --spec sim/specs/demo.yaml --tracker "http://$RG_TRACKER_ADDR" --duration "$duration" --run lat --json >"$work/live.json"
log "traffic done; two more detector periods"
sleep $((2 * $(secs "$interval")))

# Per cheater: first cheating announce (ClickHouse, ms) and first report (Postgres).
psql -Atq -F' ' "$RG_POSTGRES_URL" -c "SELECT l.user_id, l.kind, extract(epoch FROM l.started_at)::bigint FROM sim_labels l WHERE l.run = 'lat' AND l.role = 'cheater' ORDER BY l.user_id" >"$work/labels"
psql -Atq -F' ' "$RG_POSTGRES_URL" -c "
  SELECT u.id, r.detector, (extract(epoch FROM min(r.created_at)) * 1000)::bigint
  FROM cheat_reports r JOIN users u ON (r.subject_kind = 'user' AND r.subject_id = u.id::text)
                                    OR (r.subject_kind = 'passkey' AND (r.subject_id = u.passkey OR r.subject_id = 'user:' || u.id))
  GROUP BY u.id, r.detector" >"$work/reports"
: >"$work/rows"
while read -r uid kind started; do
  first=$(chq -d "$db" -q "SELECT min(time_ms) FROM announces WHERE user_id = $uid AND time >= toDateTime($started)")
  [ "$first" = "0" ] && continue
  awk -v u="$uid" -v k="$kind" -v f="$first" '$1 == u { printf "%s %s %s %.1f\n", u, k, $2, ($3 - f) / 1000 }' "$work/reports" >>"$work/rows"
done <"$work/labels"
passes=$(grep -c '^\[' "$work/all.log" || true)
pass_s=$(grep '^\[' "$work/all.log" | jq -s 'map(map(.duration_ns) | add / 1e9) | if length > 0 then "mean \(add / length * 10 | round / 10) s, max \(max * 10 | round / 10) s" else "none" end' -r)
echo "Detector schedule $interval, $duration of live traffic (sim/specs/demo.yaml), $passes detector passes (duration $pass_s), load average $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores."
echo
echo "| detector | cheater kinds reported | cheaters | latency min s | median s | max s |"
echo "|---|---|---:|---:|---:|---:|"
sort -k3,3 -k4,4n "$work/rows" | awk '
  { d = $3; n[d]++; v[d, n[d]] = $4; kinds[d] = kinds[d] (index(kinds[d], $2) ? "" : (kinds[d] ? ", " : "") $2) }
  END { for (d in n) printf "| %s | %s | %d | %.1f | %.1f | %.1f |\n", d, kinds[d], n[d], v[d, 1], v[d, int((n[d] + 1) / 2)], v[d, n[d]] }' | sort
labelled=$(wc -l <"$work/labels"); reported=$(cut -d' ' -f1 "$work/rows" | sort -u | wc -l)
echo
echo "$reported of $labelled labelled cheaters reported during the run (work files: $work)."
# What the scheduled (incremental) passes left for a full pass over the same
# window: reports it inserts are findings the triggers did not re-evaluate.
kill -TERM "$all_pid" 2>/dev/null && wait "$all_pid" 2>/dev/null || true
start=$(psql -Atq "$RG_POSTGRES_URL" -c "SELECT to_char(sim_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM sim_runs WHERE run = 'lat'")
"$bin" detect --once --since "$start" --json 2>/dev/null >"$work/full.json"
echo "A full pass over the same window afterwards: $(jq -r '[.[] | select(.detector != "rollup_refresh") | "\(.detector) \(.findings) findings, \(.inserted) new"] | join("; ")' "$work/full.json")."
