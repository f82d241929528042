#!/usr/bin/env bash
# Place-order throughput (reserve + order + intent + outbox, test gateway,
# 8 clients) side by side with pgbench -b tpcb-like -c 8 on the same
# PostgreSQL (TEST_DATABASE_URL's server, default 127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."
PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench | tail -1)
db=pgbench_$$
createdb -h 127.0.0.1 -U postgres "$db"
trap 'dropdb -h 127.0.0.1 -U postgres "$db" >/dev/null 2>&1 || true' EXIT
"$PGBENCH" -h 127.0.0.1 -U postgres -i -s 10 -q "$db" >/dev/null 2>&1
tps=$("$PGBENCH" -h 127.0.0.1 -U postgres -b tpcb-like -c 8 -j 2 -T 10 "$db" 2>/dev/null | awk '/^tps/ {print $3}')
out=$(go test -run '^$' -bench PlaceOrder -benchtime 1000x ./internal/ordering/ | grep Benchmark)
orders=$(echo "$out" | awk '{for (i=1;i<=NF;i++) if ($i=="orders/s") print $(i-1)}')
stmts=$(echo "$out" | awk '{for (i=1;i<=NF;i++) if ($i=="statements/order") print $(i-1)}')
echo "pgbench tpcb-like -c8: $tps tps"
echo "place order, 8 clients: $orders orders/s, $stmts statements/order"
echo "ratio orders/tps = $(awk -v a="$orders" -v b="$tps" 'BEGIN { printf "%.2f", a / b }')"
