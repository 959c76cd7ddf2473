#!/usr/bin/env bash
# scripts/import-bench.sh — load run of `ratioguard import announces` into the real Kafka,
# with its baselines measured in the same run (docs/BENCHMARKS.md "Announce-log import").
#
#   scripts/import-bench.sh [REQUESTS.jsonl|access.log[.gz] ...]
#
# Default input: popgen's /tmp/pg/s1/requests.jsonl, its members and torrents from the
# setup.json beside it (SETUP=... to choose another). LINES=N replays only the first N
# lines (of a single uncompressed file). AS_COMBINED=1 first turns that JSON-lines input
# into a gzipped nginx combined access log and replays that. SIM_DAYS (default 2) sizes the `sim replay`
# baseline. Everything runs in a fresh Postgres database and fresh Kafka topics, dropped
# at the end (IMPORT_BENCH_KEEP=1 keeps them).
#
# Runs, in this order:
#   1. read + parse only           (the readers alone: go test -bench ReadParse on the file)
#   2. import --dry-run            (read, parse, frontend parser, core, encoding; no Kafka)
#   3. import into Kafka           (the figure)
#   4. sim replay into Kafka       (the simulator's replay through the same sink and core)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .stack/env ] || { echo "import-bench: no .stack/env: run scripts/stack up first" >&2; exit 1; }
# shellcheck disable=SC1091
source .stack/env

files=("$@")
[ ${#files[@]} -gt 0 ] || files=(/tmp/pg/s1/requests.jsonl)
setup="${SETUP:-$(dirname "${files[0]}")/setup.json}"
sim_days="${SIM_DAYS:-2}"
for f in "${files[@]}" "$setup"; do
  [ -r "$f" ] || { echo "import-bench: cannot read $f" >&2; exit 1; }
done

ts=$(date +%s)
work=$(mktemp -d)
db="rgimpbench_$ts"
topic="rgimpbench_$ts"
simtopic="rgimpbench_sim_$ts"
pg_base="${RG_POSTGRES_URL%/*}"
pg_url="$pg_base/$db?sslmode=disable"
ch_url="${RG_CLICKHOUSE_URL%/*}/$db"
bin="$work/ratioguard"

cleanup() {
  if [ -z "${IMPORT_BENCH_KEEP:-}" ]; then
    if [ -d .stack/kafka/libs ]; then
      for t in "$topic" "$simtopic" "$topic.dlq"; do
        java -cp '.stack/kafka/libs/*' -Dlog4j2.configurationFile=.stack/kafka/tools-log4j2.properties \
          org.apache.kafka.tools.TopicCommand --bootstrap-server "${RG_KAFKA_BROKERS%%,*}" --delete --topic "$t" >/dev/null 2>&1 || true
      done
    fi
    psql -q "$pg_base/postgres?sslmode=disable" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    clickhouse-client -q "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    rm -rf "$work"
  else
    echo "kept: database $db, topics $topic $simtopic, files in $work"
  fi
}
trap cleanup EXIT

go build -o "$bin" ./cmd/ratioguard
if [ -n "${LINES:-}" ]; then
  [ ${#files[@]} -eq 1 ] || { echo "import-bench: LINES needs exactly one file" >&2; exit 1; }
  head -n "$LINES" "${files[0]}" >"$work/prefix.log"
  files=("$work/prefix.log")
fi
if [ -n "${AS_COMBINED:-}" ]; then
  [ ${#files[@]} -eq 1 ] || { echo "import-bench: AS_COMBINED needs exactly one file" >&2; exit 1; }
  jq -r '"\(.ip) - - [\(.ts/1000|floor|strftime("%d/%b/%Y:%H:%M:%S +0000"))] \"GET \(.path) HTTP/1.1\" 200 57 \"-\" \"\(.ua|gsub("\""; "\\x22"))\""' \
    "${files[0]}" | gzip -1 >"$work/access.log.gz"
  files=("$work/access.log.gz")
fi

psql -q "$pg_base/postgres?sslmode=disable" -c "CREATE DATABASE $db" >/dev/null
export RG_POSTGRES_URL="$pg_url" RG_CLICKHOUSE_URL="$ch_url"
"$bin" migrate >/dev/null
"$bin" import site "$setup" >/dev/null 2>&1

cores=$(nproc)
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $cores cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; input: ${files[*]} ($(du -ch "${files[@]}" | tail -1 | cut -f1))"

# 1. Read + parse only.
echo "== read + parse only (load $(load))"
IMPORT_BENCH_FILES="${files[*]}" go test ./importer/announces -run XXX -bench 'ReadParseFiles' -benchtime 1x 2>&1 | grep -E 'lines/s|FAIL' || true

# 2. and 3. The import, without and with Kafka.
run_import() {
  local label=$1; shift
  echo "== $label (load $(load))"
  /usr/bin/time -f '%e s wall, %P CPU, %M KiB max RSS' -o "$work/time" \
    "$bin" import announces --progress 0 --json "$@" "${files[@]}" >"$work/$label.json" 2>"$work/$label.err"
  jq -r '"requests \(.requests) (accepted \(.accepted), refused \(.refused), bad lines \(.bad_lines)), events \(.events), \(.elapsed_ns/1e9*1000|round/1000) s: \(.requests_per_s|round) requests/s; sha256 \(.sha256[0:12])…"' "$work/$label.json"
  echo "   $(cat "$work/time")"
}
run_import dry-run --dry-run
run_import kafka --topic "$topic"

# 4. The simulator's replay into Kafka through the same sink.
echo "== sim replay, $sim_days days of sim/specs/site-10k.yaml, into Kafka (load $(load))"
/usr/bin/time -f '%e s wall, %P CPU, %M KiB max RSS' -o "$work/time" \
  "$bin" sim replay --spec sim/specs/site-10k.yaml --days "$sim_days" --no-setup --topic "$simtopic" --json >"$work/sim.json" 2>/dev/null
jq -r '"events \(.events) in \(.elapsed_ns/1e9*1000|round/1000) s: \(.events/(.elapsed_ns/1e9)|round) events/s"' "$work/sim.json"
echo "   $(cat "$work/time")"
echo "== done (load $(load))"
