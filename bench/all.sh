#!/usr/bin/env bash
# `make bench`: every figure of the performance targets, side by side in
# one run on this machine (it is shared, so only ratios mean much):
#   1. cached GET /api/v1/products/{id} against a bare Fiber handler
#      serving the same JSON (rps and p99, same load generator);
#   2. the product list of 20 and add-to-cart, right after `commerce seed`;
#   3. place order against pgbench tpcb-like, 16 clients each, one server;
#   4. an idle `commerce serve` with its embedded PostgreSQL (bench/idle.sh).
# The load generator is bench/load (wrk-style output; wrk need not be
# installed). Usage: bench/all.sh [duration] [connections] [idle seconds]
# (COMMERCE_BIN=path uses a built binary; SKIP_ORDERS=1 leaves out step 3)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10s}
CONNS=${2:-32}
IDLE=${3:-60}
work=$(mktemp -d)
chmod 755 "$work" # the embedded cluster lives in DATA_DIR only when its unprivileged user can reach it
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
if [ -n "${COMMERCE_BIN:-}" ]; then cp "$COMMERCE_BIN" "$work/commerce"; else go build -o "$work/commerce" ./cmd/commerce; fi
go build -o "$work/bare" ./bench/bare
go build -o "$work/load" ./bench/load
export DATA_DIR="$work/data" RATE_LIMIT_PER_MINUTE=100000000 LOG_LEVEL=warn HTTP_ADDR=127.0.0.1:18089
unset DATABASE_URL REDIS_URL
S=http://127.0.0.1:18089
"$work/commerce" seed --products 1000 >/dev/null
# Add-to-cart spreads over 16 shoppers (one cart row each) and 10 products
# (a cart of at most 10 lines, up to 99 each: room for 15,840 adds).
for u in $(seq 1 16); do
  "$work/commerce" admin create --email "bench$u@example.com" --password 'bench passphrase 1234' >/dev/null
done
"$work/commerce" serve 2>"$work/serve.log" &
for _ in $(seq 1 600); do curl -fs $S/readyz >/dev/null 2>&1 && break; sleep 0.1; done
id=$(curl -fs "$S/api/v1/products?limit=1" | sed -E 's/.*"id":"([^"]+)".*/\1/' | head -c 36)
curl -fs "$S/api/v1/products/$id" > "$work/product.json"
for u in $(seq 1 16); do
  curl -fs -H 'content-type: application/json' -d "{\"email\":\"bench$u@example.com\",\"password\":\"bench passphrase 1234\"}" \
    $S/api/v1/auth/login | sed -E 's/.*"access_token":"([^"]+)".*/\1/'; echo
done > "$work/tokens.txt"
curl -fs "$S/api/v1/products?limit=10" | grep -oE '"id":"[0-9a-f-]{36}"' | sed -E 's/"id":"(.*)"/{"product_id":"\1","quantity":1}/' > "$work/bodies.txt"
"$work/bare" -json "$work/product.json" &
sleep 0.5
run() { # name, then load arguments
  local name=$1; shift
  "$work/load" -c "$CONNS" -d "$DUR" "$@" > "$work/$name.txt"
  printf '%-22s %10s rps   p50 %-10s p99 %-10s %s\n' "$name" "$(awk '/Requests\/sec/ {print $2}' "$work/$name.txt")" \
    "$(awk '$1=="50%" {print $2}' "$work/$name.txt")" "$(awk '$1=="99%" {print $2}' "$work/$name.txt")" \
    "$(grep -o '[0-9]* errors.*' "$work/$name.txt")"
}
rps() { awk '/Requests\/sec/ {print $2}' "$work/$1.txt"; }
ms() { awk -v k="$2" '$1==k { v=$2; if (v ~ /µs$/) { sub(/µs$/,"",v); v/=1000 } else if (v ~ /ms$/) sub(/ms$/,"",v); else if (v ~ /s$/) { sub(/s$/,"",v); v*=1000 }; print v }' "$work/$1.txt"; }
echo "== HTTP, $CONNS connections, $DUR each (1,000 products, just seeded)"
run bare_fiber "http://127.0.0.1:18090/api/v1/products/$id"
run product_get_cached "$S/api/v1/products/$id"
run product_list_20 "$S/api/v1/products?limit=20"
run add_to_cart -method POST -tokens "$work/tokens.txt" -bodies "$work/bodies.txt" "$S/api/v1/cart/items"
awk -v b="$(rps bare_fiber)" -v c="$(rps product_get_cached)" -v bp="$(ms bare_fiber 99%)" -v cp="$(ms product_get_cached 99%)" \
  -v l="$(rps product_list_20)" -v a="$(rps add_to_cart)" 'BEGIN {
  printf "cached GET / bare: %.2f× rps, p99 %.2f× (target ≤ 2×)\n", c/b, cp/bp
  printf "product list of 20: %.0f rps (target ≥ 7.7k); add-to-cart: %.0f rps (target ≥ 1.6k)\n", l, a }'
kill %1 %2 2>/dev/null || true; wait 2>/dev/null || true
if [ -z "${SKIP_ORDERS:-}" ]; then
  echo "== place order vs pgbench (16 clients, same PostgreSQL)"
  CLIENTS=16 bench/place_order.sh
fi
echo "== idle"
bench/idle.sh "$IDLE" "$work/commerce"
