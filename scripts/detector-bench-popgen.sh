#!/usr/bin/env bash
# Times the detectors on a kept popgen population (databases DB in Postgres and
# ClickHouse, e.g. from `RG_QUAL_KEEP=1 scripts/detection-report.sh popgen:SEED`):
# two ClickHouse scans as baselines, the backfill over the whole window
# (detect --once --since) with its evaluation, then one full pass over each
# detector's lookback followed by incremental passes every 5 minutes
# (detect --replay-step) over the window's last 40 minutes. Prints a summary;
# work files go to $RG_BENCH_OUT (default a temp dir).
#
# Usage: scripts/detector-bench-popgen.sh DB
#   RG_BENCH_BIN   the ratioguard binary (default: built from this tree)
set -euo pipefail
db=${1:?usage: detector-bench-popgen.sh DB}
root=$(cd "$(dirname "$0")/.." && pwd)
base=${RG_POSTGRES_URL:-postgres://ratioguard:ratioguard@127.0.0.1:5432/ratioguard?sslmode=disable}
base=${base%%\?*}; base=${base%/*}
export RG_POSTGRES_URL="$base/$db?sslmode=disable" RG_CLICKHOUSE_URL="clickhouse://127.0.0.1:9000/$db"
out=${RG_BENCH_OUT:-$(mktemp -d)}
bin=${RG_BENCH_BIN:-$out/ratioguard}
[ -n "${RG_BENCH_BIN:-}" ] || (cd "$root" && go build -o "$bin" ./cmd/ratioguard)
secs() { local t0; t0=$(date +%s.%N); "$@"; echo "$(date +%s.%N) - $t0" | bc; }
say() { echo "$*" | tee -a "$out/summary"; }
run=$(psql -Atq "$RG_POSTGRES_URL" -c "SELECT run FROM sim_runs ORDER BY created_at DESC LIMIT 1")
from=$(psql -Atq "$RG_POSTGRES_URL" -c "SELECT to_char(sim_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM sim_runs WHERE run = '$run'")
until=$(psql -Atq "$RG_POSTGRES_URL" -c "SELECT to_char(sim_end AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM sim_runs WHERE run = '$run'")
last=$(date -u -d "$until - 40 minutes" +%Y-%m-%dT%H:%M:%SZ)
say "population $db (run $run, $from … $until), $(clickhouse-client -d "$db" -q 'SELECT count() FROM announces') announces; load $(cut -d' ' -f1-3 /proc/loadavg)"
say "baseline count() s $(secs clickhouse-client -d "$db" -q 'SELECT count() FROM announces FORMAT Null')"
say "baseline GROUP BY user_id, torrent_id s $(secs clickhouse-client -d "$db" -q 'SELECT user_id, torrent_id, sum(delta_uploaded), max(left) FROM announces GROUP BY user_id, torrent_id FORMAT Null')"
psql -q "$RG_POSTGRES_URL" -c "DELETE FROM cheat_reports"
say "backfill (detect --once --since) s $(secs "$bin" detect --once --since "$from" --until "$until" --json >"$out/backfill.json" 2>"$out/backfill.log")"
jq -r '.[] | "  \(.detector) \((.duration_ns // 0) / 1e9) s, \(.findings) findings \(.error // "")"' "$out/backfill.json" | tee -a "$out/summary"
"$bin" sim eval --run "$run" --json >"$out/eval.json"
say "$(jq -r '"  eval: honest reported \(.honest_flagged) of \(.honest); precision@100 \(.queue.precision_at[] | select(.k == 100) | .precision)"' "$out/eval.json")"
say "replay (1 full pass over the lookbacks, then every 5 min) s $(secs "$bin" detect --replay-step 5m --since "$last" --until "$until" --json >"$out/replay.json" 2>"$out/replay.log")"
say "$(jq -r '"  passes \(.passes), elapsed \(.elapsed_ns / 1e9) s, longest pass \(.max_pass_ns / 1e9) s"' "$out/replay.json")"
jq -r '.detectors[] | "  \(.detector): \(.runs) runs, \(.duration_ns / 1e9) s in all, longest \(.max_ns / 1e9) s"' "$out/replay.json" | tee -a "$out/summary"
say "load $(cut -d' ' -f1-3 /proc/loadavg); work files in $out (replay.log has every pass's per-detector time)"
