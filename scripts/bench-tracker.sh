#!/usr/bin/env bash
# Scripted keep-alive load run of the tracker (issue "Tracker", target
# >= 25,000 announces/s with events streaming to the real Kafka), side by side
# in the same run with two baselines: a bare net/http handler answering a fixed
# bencoded answer, Debian's opentracker and, optionally, chihaya (target
# "chihaya": CHIHAYA_BIN=/path/to/chihaya, or CHIHAYA_SRC=/path/to/a/chihaya
# checkout to build ./cmd/chihaya from). Each target gets a closed-loop
# peak run and then (BENCH_REPEAT, default 3, rounds of) runs paced at half
# its peak, for p99 latency.
#
#   scripts/bench-tracker.sh            # needs the local stack (scripts/stack up)
#   BENCH_SECONDS=30 scripts/bench-tracker.sh
#   TRACKER_ARGS="--gc-percent 100 --queue-size 16384" BENCH_TARGETS=ratioguard scripts/bench-tracker.sh   # A/B a setting
#   CHIHAYA_SRC=/tmp/chihaya BENCH_TARGETS="ratioguard barehttp chihaya" scripts/bench-tracker.sh
#
# chihaya runs its HTTP frontend with keep-alive, in-memory storage and no
# middleware: it answers the same /PASSKEY/announce URLs (the passkey is a route
# parameter it ignores), so unlike ratioguard it checks no passkey, client or
# torrent and writes no event anywhere. It is the public-tracker baseline of
# issue 13 (ratioguard's CPU per announce <= 0.5x chihaya's).
#
# Each row also gives the server's CPU per request: the user+system time the
# target's process used during the run (/proc/PID/stat) over the requests wrk
# had answered — on 2 cores where wrk takes half the CPU, throughput alone
# hides what a request costs.
#
# Writes a summary to stdout and the raw wrk outputs to $BENCH_OUT (default a
# temp dir). Uses only loopback; every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
[ -f .stack/env ] && source .stack/env
: "${RG_POSTGRES_URL:?RG_POSTGRES_URL not set (scripts/stack up; source .stack/env)}"
: "${RG_KAFKA_BROKERS:?RG_KAFKA_BROKERS not set}"
SECONDS_PER_RUN=${BENCH_SECONDS:-20}
CONNS=${BENCH_CONNECTIONS:-64}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/bench-tracker.XXXXXX)}
PORT_RG=16970 PORT_BARE=16971 PORT_OT=16972 PORT_ADMIN=16973 PORT_CH=16974 PORT_CH_METRICS=16975
WANT=" ${BENCH_TARGETS:-ratioguard barehttp opentracker} "

for tool in wrk opentracker psql; do
  if ! command -v "$tool" >/dev/null; then
    pkg=$tool; [ "$tool" = psql ] && pkg=postgresql-client
    echo "installing $pkg" >&2
    apt-get install -y "$pkg" >/dev/null
  fi
done

pids=()
DB=rgbench_$$_$RANDOM
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  psql "$RG_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "building" >&2
go build -o "$OUT/ratioguard" ./cmd/ratioguard
go build -o "$OUT/barehttp" ./tracker/internal/barehttp
case $WANT in *" chihaya "*)
  if [ -n "${CHIHAYA_BIN:-}" ]; then
    cp "$CHIHAYA_BIN" "$OUT/chihaya"
  else
    : "${CHIHAYA_SRC:?target chihaya: set CHIHAYA_BIN to a chihaya binary or CHIHAYA_SRC to a chihaya checkout}"
    (cd "$CHIHAYA_SRC" && GOFLAGS=-mod=mod go build -o "$OUT/chihaya" ./cmd/chihaya)
  fi ;;
esac

echo "preparing database $DB (5k members, 10k torrents)" >&2
psql "$RG_POSTGRES_URL" -qc "CREATE DATABASE $DB" >/dev/null
DB_URL=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$RG_POSTGRES_URL" "$DB")
for f in schemas/postgres/migrations/*.sql; do
  sed '/^-- +goose Down/,$d' "$f" | psql "$DB_URL" -q -v ON_ERROR_STOP=1 >/dev/null
done
psql "$DB_URL" -q -v ON_ERROR_STOP=1 -f scripts/bench-tracker/seed.sql >/dev/null

TOPIC=rgbench_announces_$$
echo "starting ratioguard tracker (Kafka topic $TOPIC), barehttp, opentracker" >&2
RG_POSTGRES_URL=$DB_URL "$OUT/ratioguard" tracker --addr 127.0.0.1:$PORT_RG --admin-addr 127.0.0.1:$PORT_ADMIN --topic "$TOPIC" \
  --create-topic 4 --spool-dir "$OUT/spool" --state-dir "$OUT/state" --min-interval 1s --jitter 0 ${TRACKER_ARGS:-} >"$OUT/tracker.log" 2>&1 &
pids+=($!)
declare -A PID
PID[ratioguard]=$!
"$OUT/barehttp" -addr 127.0.0.1:$PORT_BARE >"$OUT/barehttp.log" 2>&1 &
pids+=($!)
PID[barehttp]=$!
# Debian's opentracker is built with a whitelist; it chroots to -d and drops to nobody.
python3 -c 'for i in range(1, 10001): print(("%020d" % i).encode().hex())' >"$OUT/whitelist"
chmod 755 "$OUT"; chmod 644 "$OUT/whitelist"
opentracker -i 127.0.0.1 -p $PORT_OT -P $PORT_OT -d "$OUT" -w /whitelist >"$OUT/opentracker.log" 2>&1 &
pids+=($!)
PID[opentracker]=$!
PORTS="$PORT_RG $PORT_BARE $PORT_OT"
case $WANT in *" chihaya "*)
  # HTTP only (no UDP), keep-alive, memory storage, no pre- or posthooks. The
  # passkey route parameter lets it answer the URLs ratioguard is sent;
  # httprouter then wants scrape under the same wildcard.
  cat >"$OUT/chihaya.yaml" <<YAML
chihaya:
  announce_interval: "30m"
  min_announce_interval: "15m"
  metrics_addr: "127.0.0.1:$PORT_CH_METRICS"
  http:
    addr: "127.0.0.1:$PORT_CH"
    read_timeout: "5s"
    write_timeout: "10s"
    enable_keepalive: true
    idle_timeout: "120s"
    enable_request_timing: false
    announce_routes: ["/:passkey/announce"]
    scrape_routes: ["/:passkey/scrape"]
    allow_ip_spoofing: false
    real_ip_header: "x-real-ip"
    max_numwant: 100
    default_numwant: 50
    max_scrape_infohashes: 50
  storage:
    name: "memory"
    config:
      gc_interval: "3m"
      peer_lifetime: "31m"
      shard_count: 1024
      prometheus_reporting_interval: "1s"
  prehooks:
YAML
  "$OUT/chihaya" --config "$OUT/chihaya.yaml" --nocolors >"$OUT/chihaya.log" 2>&1 &
  pids+=($!)
  PID[chihaya]=$!
  PORTS="$PORTS $PORT_CH" ;;
esac
for port in $PORTS; do
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
  done
done
curl -sf "http://127.0.0.1:$PORT_ADMIN/readyz" >/dev/null || { echo "tracker not ready:" >&2; cat "$OUT/tracker.log" >&2; exit 1; }

# cputicks PID: user+system clock ticks the process has used
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)
# run NAME URL PATHMODE RATE -> prints "rate p50 p99 cpu-µs/request"; RATE is
# the total request rate to pace at (0: closed loop, the peak)
THREADS=2
run() {
  local name=$1 url=$2 mode=$3 total=$4 f="$OUT/wrk-$1-$4${RUN_TAG:+-$RUN_TAG}.txt"
  local t0; t0=$(cputicks "${PID[$name]}")
  BENCH_PATH=$mode BENCH_RATE=$(awk -v r="$total" -v t=$THREADS 'BEGIN { print r / t }') \
    wrk -t$THREADS -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency \
    -s scripts/bench-tracker/announce.lua "$url" >"$f" 2>&1
  local t1; t1=$(cputicks "${PID[$name]}")
  local rate p50 p99 errs reqs cpu
  rate=$(awk '/^Requests\/sec:/ {print $2}' "$f")
  p50=$(awk '$1=="50%" {print $2}' "$f")
  p99=$(awk '$1=="99%" {print $2}' "$f")
  reqs=$(awk '/ requests in / {print $1}' "$f")
  cpu=$(awk -v d=$((t1 - t0)) -v h="$TCK" -v n="$reqs" 'BEGIN { printf "%.1f", n ? d / h / n * 1e6 : 0 }')
  errs=$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' "$f")
  echo "$rate $p50 $p99 $cpu ${errs:-}"
}

# snap FILE: the tracker's metrics now; metric FILE NAME -> a value in it
snap() { curl -s "http://127.0.0.1:$PORT_ADMIN/metrics" >"$1"; }
metric() { awk -v n="$2" '$1 == n { printf "%d", $2; found = 1 } END { if (!found) print 0 }' "$1"; }
# bucket FILE HISTOGRAM T -> cumulative count of the histogram's smallest
# finite bucket with le >= T (seconds); T=inf: its _count
bucket() {
  if [ "$3" = inf ]; then metric "$1" "$2_count"; return; fi
  awk -v h="$2_bucket" -v t="$3" '
    index($1, h "{") == 1 && match($1, /le="[^"]+"/) {
      s = substr($1, RSTART + 4, RLENGTH - 5)
      if (s == "+Inf") next
      le = s + 0
      if (le >= t && (best == "" || le < best)) { best = le; n = $2 }
    }
    END { printf "%d", n }' "$1"
}
pct() { awk -v a="$1" -v n="$2" 'BEGIN { printf "%.3f%%", n ? 100 * a / n : 0 }'; }
# mark / since: during a run, what the tracker spooled, how many GC cycles it
# ran, its own time per announce (handler only, from its histogram) and the
# Go scheduler's latency (runnable → running: the tracker waiting for a CPU).
# What wrk sees beyond those is the kernel and wrk itself.
H=ratioguard_tracker_announce_seconds S=go_sched_latencies_seconds
mark() { snap "$OUT/metrics.before"; }
since() {
  snap "$OUT/metrics.after"
  delta() { echo $(( $(bucket "$OUT/metrics.after" "$1" "$2") - $(bucket "$OUT/metrics.before" "$1" "$2") )); }
  local n f v sn sf sv sp gc
  n=$(delta $H inf) f=$(delta $H 0.001) v=$(delta $H 0.005)
  sn=$(delta $S inf) sf=$(delta $S 0.0009) sv=$(delta $S 0.01) # the runtime's buckets: 0.92 ms, 10.5 ms
  sp=$(( $(metric "$OUT/metrics.after" ratioguard_stream_spool_writes_total) - $(metric "$OUT/metrics.before" ratioguard_stream_spool_writes_total) ))
  gc=$(( $(metric "$OUT/metrics.after" go_gc_duration_seconds_count) - $(metric "$OUT/metrics.before" go_gc_duration_seconds_count) ))
  echo "  tracker during the run: $sp events spooled, $gc GC cycles; handler time > 1 ms: $(pct $((n - f)) $n)," \
    "> 5 ms: $(pct $((n - v)) $n); goroutine waits for a CPU > 0.9 ms: $(pct $((sn - sf)) $sn), > 10 ms: $(pct $((sn - sv)) $sn)"
}

TARGETS=()
for target in "ratioguard http://127.0.0.1:$PORT_RG passkey" "barehttp http://127.0.0.1:$PORT_BARE passkey" \
  "opentracker http://127.0.0.1:$PORT_OT plain" "chihaya http://127.0.0.1:$PORT_CH passkey"; do
  set -- $target
  case $WANT in *" $1 "*) TARGETS+=("$target") ;; esac
done
# one NAME URL MODE RATE LABEL: a wrk run, its row, the tracker's own figures
one() {
  mark
  read -r got p50 p99 cpu notes < <(run "$1" "$2" "$3" "$4")
  printf '%-26s %10s %10s %10s %12s   %s\n' "$5" "$got" "$p50" "$p99" "$cpu" "$notes"
  if [ "$1" = ratioguard ]; then since; fi
}

echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-26s %10s %10s %10s %12s   %s\n' target "req/s" p50 p99 "cpu µs/req" notes
# Peaks (closed loop) first; then REPEAT rounds of runs paced at half of each
# target's peak (constant throughput, see announce.lua), the targets taking
# turns so that the machine's load drifts alike for all of them.
declare -A HALF
for target in "${TARGETS[@]}"; do
  set -- $target
  one "$1" "$2" "$3" 0 "$1 peak"
  HALF[$1]=$(awk -v r="$got" 'BEGIN { printf "%d", r / 2 }')
done
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "${BENCH_REPEAT:-3}"); do
  for target in "${TARGETS[@]}"; do
    set -- $target
    RUN_TAG=$rep one "$1" "$2" "$3" "${HALF[$1]}" "$1 @half ${HALF[$1]}/s #$rep"
  done
  echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
done

echo
echo "tracker counters after the runs:"
sleep 2
snap "$OUT/metrics.end"
grep -E '^ratioguard_(tracker_announces_total|tracker_peers |tracker_torrents |stream_events_(published|produced|dropped)_total|stream_kafka_errors_total|stream_spool_writes_total)' "$OUT/metrics.end" | grep -v ' 0$' || true
echo "raw outputs in $OUT"
