#!/usr/bin/env bash
# Place-order throughput (reserve + order + intent + outbox, test gateway,
# CLIENTS clients, default 16) side by side with pgbench -b tpcb-like with
# as many clients on the same PostgreSQL (TEST_DATABASE_URL's server,
# default 127.0.0.1:5432). Target: at least 0.5.
set -euo pipefail
CLIENTS=${CLIENTS:-16}
cd "$(dirname "$0")/.."
PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench | tail -1)
db=pgbench_$$
createdb -h 127.0.0.1 -U postgres "$db"
trap 'dropdb -h 127.0.0.1 -U postgres "$db" >/dev/null 2>&1 || true' EXIT
"$PGBENCH" -h 127.0.0.1 -U postgres -i -s 10 -q "$db" >/dev/null 2>&1
tps=$("$PGBENCH" -h 127.0.0.1 -U postgres -b tpcb-like -c "$CLIENTS" -j 2 -T 10 "$db" 2>/dev/null | awk '/^tps/ {print $3}')
out=$(BENCH_CLIENTS=$CLIENTS go test -run '^$' -bench PlaceOrder -benchtime 1000x ./internal/ordering/ | grep Benchmark)
orders=$(echo "$out" | awk '{for (i=1;i<=NF;i++) if ($i=="orders/s") print $(i-1)}')
stmts=$(echo "$out" | awk '{for (i=1;i<=NF;i++) if ($i=="statements/order") print $(i-1)}')
commits=$(echo "$out" | awk '{for (i=1;i<=NF;i++) if ($i=="commits/order") print $(i-1)}')
all=$(echo "$out" | awk '{for (i=1;i<=NF;i++) if ($i=="all-statements/order") print $(i-1)}')
echo "pgbench tpcb-like -c$CLIENTS: $tps tps"
echo "place order, $CLIENTS clients: $orders orders/s, $stmts statements/order in the saga, $all statements/order in all, $commits durable commits/order (saga and consumers)"
echo "ratio orders/tps = $(awk -v a="$orders" -v b="$tps" 'BEGIN { printf "%.2f", a / b }')"
