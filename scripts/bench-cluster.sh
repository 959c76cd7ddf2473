#!/usr/bin/env bash
# Aggregate throughput of three trackers sharing one announces topic (each
# learns the two others' events: tracker/state), behind nginx hashing
# info_hash (deploy/nginx-tracker.conf), against one of them answering
# alone in the same run (the two others still follow its events). Load:
# scripts/bench-tracker/announce.lua (keep-alive announces, 50k sessions of
# 5k members on 10k torrents), closed loop. Prints a table for
# docs/BENCHMARKS.md ("Several instances").
#
#   scripts/bench-cluster.sh          # needs the local stack (scripts/stack up)
#   BENCH_SECONDS=20 BENCH_CONNECTIONS=64 scripts/bench-cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .stack/env ] && source .stack/env
: "${RG_POSTGRES_URL:?RG_POSTGRES_URL not set (scripts/stack up; source .stack/env)}"
: "${RG_KAFKA_BROKERS:?RG_KAFKA_BROKERS not set}"
SECS=${BENCH_SECONDS:-15}
CONNS=${BENCH_CONNECTIONS:-64}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/bench-cluster.XXXXXX)}
PORT_LB=16980
for tool in wrk nginx psql; do
  command -v "$tool" >/dev/null || { echo "$tool missing (apt-get install wrk nginx-light postgresql-client)" >&2; exit 1; }
done
pids=()
DB=rgcluster_$$_$RANDOM
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  psql "$RG_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

bin=${RG_BENCH_BIN:-}
if [ -z "$bin" ]; then bin=$OUT/ratioguard; go build -o "$bin" ./cmd/ratioguard; fi
psql "$RG_POSTGRES_URL" -qc "CREATE DATABASE $DB" >/dev/null
DB_URL=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$RG_POSTGRES_URL" "$DB")
for f in schemas/postgres/migrations/*.sql; do
  sed '/^-- +goose Down/,$d' "$f" | psql "$DB_URL" -q -v ON_ERROR_STOP=1 >/dev/null
done
psql "$DB_URL" -q -v ON_ERROR_STOP=1 -f scripts/bench-tracker/seed.sql >/dev/null

TOPIC=rgcluster_announces_$$
upstreams=""
for i in 1 2 3; do
  port=$((16980 + i)) admin=$((16990 + i))
  create=""; [ "$i" = 1 ] && create="--create-topic 4"
  RG_POSTGRES_URL=$DB_URL "$bin" tracker --addr 127.0.0.1:$port --admin-addr 127.0.0.1:$admin --topic "$TOPIC" $create \
    --spool-dir "$OUT/t$i/spool" --state-dir "$OUT/t$i/state" --min-interval 1s --jitter 0 \
    --trusted-proxies 127.0.0.1/32 >"$OUT/tracker$i.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$admin/readyz" && break; sleep 0.1; done
  curl -sf -o /dev/null "http://127.0.0.1:$admin/readyz" || { echo "tracker $i not ready:" >&2; cat "$OUT/tracker$i.log" >&2; exit 1; }
  upstreams+="    server 127.0.0.1:$port;\n"
done
# deploy/nginx-tracker.conf with loopback addresses, run in the foreground.
mkdir -p "$OUT/nginx/logs"
{
  echo "worker_processes 1; daemon off; pid $OUT/nginx/nginx.pid; error_log $OUT/nginx/error.log warn;"
  echo "events { worker_connections 4096; }"
  echo "http {"
  sed -e "s/listen 6969;/listen 127.0.0.1:$PORT_LB;/" -e '/server tracker-[0-9]/d' \
    -e "s/hash \$arg_info_hash consistent;/&\n$upstreams/" deploy/nginx-tracker.conf
  echo "}"
} >"$OUT/nginx/nginx.conf"
nginx -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" &
pids+=($!)
sleep 1

# run LABEL URL... : one wrk per URL at once (2 threads in all); prints the summed req/s
run() {
  local label=$1; shift
  local n=$# t=1 i=0 files=()
  [ "$n" = 1 ] && t=2
  for url in "$@"; do
    i=$((i + 1))
    wrk -t$t -c$((CONNS / n)) -d"${SECS}s" -s scripts/bench-tracker/announce.lua "$url" >"$OUT/wrk-$label-$i.txt" 2>&1 &
    files+=("$OUT/wrk-$label-$i.txt")
  done
  wait_wrk
  local sum
  sum=$(awk '/^Requests\/sec:/ {s += $2} END {printf "%.0f", s}' "${files[@]}")
  local errs
  errs=$(cat "${files[@]}" | awk '/Non-2xx|Socket errors/ {printf "%s ", $0}')
  printf '%-44s %10s   %s\n' "$label" "$sum" "${errs:-}"
}
wait_wrk() { while pgrep -P $$ -x wrk >/dev/null; do sleep 0.2; done; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %10s\n' "target (closed loop, $CONNS connections, ${SECS}s)" "req/s"
run "one instance (two others following)" http://127.0.0.1:16981
run "three instances via nginx (hash info_hash)" http://127.0.0.1:$PORT_LB
run "three instances, one wrk each" http://127.0.0.1:16981 http://127.0.0.1:16982 http://127.0.0.1:16983
run "one instance (two others following), again" http://127.0.0.1:16981
# The baseline without following: the two others stopped.
kill "${pids[1]}" "${pids[2]}"; wait "${pids[1]}" "${pids[2]}" 2>/dev/null || true
run "one instance alone (the others stopped)" http://127.0.0.1:16981
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in 1; do
  curl -s "http://127.0.0.1:$((16990 + i))/metrics" | awk -v i=$i '
    /^ratioguard_tracker_announces_total/ {a += $2} /^ratioguard_tracker_peers / {p = $2}
    END {printf "tracker %d: %d announces answered, %d peers in memory (its swarms and the others)\n", i, a, p}'
done
echo "raw outputs in $OUT"
