#!/usr/bin/env bash
# Times detector passes over an existing database (e.g. a large replay) and,
# in the same run, two plain ClickHouse scans of the same table as the
# baseline. Prints a Markdown table for docs/BENCHMARKS.md ("Detectors").
#
# Usage: scripts/detector-bench.sh DB
#   RG_BENCH_BIN: time that binary instead of building this tree.
#   DB: a Postgres and a ClickHouse database of that name on the engines of
#   `source .stack/env` (ratioguard migrate'd, announces loaded).
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
db=${1:?usage: scripts/detector-bench.sh DB}
pg_base=${RG_POSTGRES_URL%%\?*}; pg_base=${pg_base%/*}
ch_base=${RG_CLICKHOUSE_URL%/*}; ch_hostport=${ch_base#clickhouse://}
export RG_POSTGRES_URL="$pg_base/$db?sslmode=disable" RG_CLICKHOUSE_URL="$ch_base/$db"
chq() { clickhouse-client --host "${ch_hostport%:*}" --port "${ch_hostport##*:}" -d "$db" "$@"; }
bin=${RG_BENCH_BIN:-}   # a ratioguard binary to time instead of this tree's (e.g. an older commit's, as the "before")
if [ -z "$bin" ]; then bin=$(mktemp -d)/ratioguard; go build -o "$bin" ./cmd/ratioguard; fi

until=$(chq -q "SELECT toUnixTimestamp(max(time)) + 1 FROM announces")
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
U=$(iso "$until")
rows=$(chq -q "SELECT count() FROM announces WHERE time >= toDateTime($until - 30*86400)")
members=$(chq -q "SELECT uniqExact(user_id) FROM announces WHERE time >= toDateTime($until - 30*86400)")
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc | awk '{printf "%.2f", $1}'; }

base_count=$(secs chq -q "SELECT count() FROM announces WHERE time >= toDateTime($until - 30*86400)")
base_group=$(secs chq -q "SELECT user_id, torrent_id, sum(delta_uploaded), max(left) FROM announces WHERE time >= toDateTime($until - 30*86400) GROUP BY user_id, torrent_id FORMAT Null")

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
pass full
hour=$((until / 3600 * 3600)); mid=$((hour - 1800))
PASS_UNTIL=$(iso $mid) pass incremental --active-since "$(iso $((mid - 300)))"
PASS_UNTIL=$(iso $hour) pass "incremental at the hour" --active-since "$(iso $((hour - 300)))"
if [ -z "${RG_BENCH_NO_BACKFILL:-}" ]; then
  pass backfill --since "$(iso $((until - 30 * 86400)))"
fi
