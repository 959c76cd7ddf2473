#!/usr/bin/env bash
# SIGKILL of the tracker under load, on the real Postgres and Kafka: builds
# ratioguard and runs tracker/state's TestSIGKILLUnderLoad with it — clients
# announce without pause over HTTP (8 goroutines), the tracker is SIGKILLed
# SIGKILL_KILLS times and restarted on the same spool and state directories,
# then every session announces once more and the tracker stops on SIGTERM.
# Passes when every member's credited total (distinct events on the topic)
# equals what its clients reported, exactly. Prints the test's log; the
# figures go to docs/BENCHMARKS.md ("Restart safety").
#
# Usage: scripts/sigkill-test.sh
#   SIGKILL_KILLS     kills (default 3)
#   SIGKILL_MEMBERS   members (default 200), SIGKILL_SESSIONS per member (default 5)
#   SIGKILL_EVERY_MS  load between kills (default 5000)
#   SIGKILL_OUTAGE=1  run a private Kafka broker and kill it before the second
#                     kill: the tracker dies with events in its disk spool, and
#                     restarts once Kafka is back
#   RG_BENCH_BIN      a ratioguard binary to use instead of building this tree
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .stack/env ] && [ -z "${RG_POSTGRES_URL:-}" ] && source .stack/env
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=${RG_BENCH_BIN:-}
if [ -z "$bin" ]; then bin=$work/ratioguard; go build -o "$bin" ./cmd/ratioguard; fi
RG_SIGKILL_BIN=$bin RG_SIGKILL_KILLS=${SIGKILL_KILLS:-3} RG_SIGKILL_MEMBERS=${SIGKILL_MEMBERS:-200} \
  RG_SIGKILL_SESSIONS=${SIGKILL_SESSIONS:-5} RG_SIGKILL_EVERY_MS=${SIGKILL_EVERY_MS:-5000} \
  RG_SIGKILL_OUTAGE=${SIGKILL_OUTAGE:-} \
  go test -count=1 -v -timeout 30m -run '^TestSIGKILLUnderLoad$' ./tracker/state/
