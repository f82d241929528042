#!/usr/bin/env bash
# Idle CPU of `commerce serve` with its embedded PostgreSQL (the default):
# nothing happening, CPU time of the binary and of every process below it
# and of the embedded PostgreSQL server (postmaster, backends, writers) over a window, as a share of
# one core. Target: at most 1%.
# Usage: bench/idle.sh [seconds] [binary]   (builds ./cmd/commerce unless given)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
work=$(mktemp -d)
chmod 755 "$work" # the embedded cluster lives in DATA_DIR only when its unprivileged user can reach it
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
bin=${2:-}
if [ -z "$bin" ]; then bin="$work/commerce"; go build -o "$bin" ./cmd/commerce; fi
export DATA_DIR="$work/data" LOG_LEVEL=warn HTTP_ADDR=127.0.0.1:${IDLE_PORT:-18091}
unset DATABASE_URL REDIS_URL
"$bin" serve 2>"$work/serve.log" &
pid=$!
for _ in $(seq 1 600); do curl -fs http://127.0.0.1:${IDLE_PORT:-18091}/readyz >/dev/null 2>&1 && break; sleep 0.1; done
sleep 5 # start-up work (migrations, first passes) settles
# The embedded server is started by pg_ctl and so is not a child of the
# binary: its postmaster is found through postmaster.pid in the cluster's
# directory (the socket directory of `commerce db url`; DATA_DIR/postgres
# unless the database user cannot reach DATA_DIR).
cluster=$("$bin" db url | sed -E 's/.*host=([^&]+).*/\1/')
pm=$(head -1 "$cluster/postmaster.pid")
tree() { local p=$1; echo "$p"; for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree "$c"; done; }
ticks() { local t=0; for p in $(tree "$pid") $(tree "$pm"); do
  s=$(awk '{print $14+$15}' /proc/"$p"/stat 2>/dev/null || echo 0); t=$((t + s)); done; echo "$t"; }
self() { awk '{print $14+$15}' /proc/"$pid"/stat; }
hz=$(getconf CLK_TCK)
t0=$(ticks); s0=$(self)
sleep "$SECS"
t1=$(ticks); s1=$(self)
awk -v a="$t0" -v b="$t1" -v x="$s0" -v y="$s1" -v hz="$hz" -v s="$SECS" 'BEGIN {
  printf "idle over %ds: %.2f%% of one core (binary %.2f%%, postgres %.2f%%)\n", s, 100*(b-a)/hz/s, 100*(y-x)/hz/s, 100*((b-a)-(y-x))/hz/s }'
