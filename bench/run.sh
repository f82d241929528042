#!/usr/bin/env bash
# Side-by-side load test (wrk, from Debian's packages): a cached
# GET /api/v1/products/{id} of the real binary against a bare Fiber handler
# serving the same JSON, same tool, threads and connections, one run.
# Usage: bench/run.sh [duration] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10s}
CONNS=${2:-64}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
chmod 755 "$work" # the embedded cluster lives in DATA_DIR only when its unprivileged user can reach it
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
go build -o "$work/commerce" ./cmd/commerce
go build -o "$work/bare" ./bench/bare
export DATA_DIR="$work/data" RATE_LIMIT_PER_MINUTE=100000000 LOG_LEVEL=warn HTTP_ADDR=127.0.0.1:18089
"$work/commerce" seed --products 1000 >/dev/null
"$work/commerce" serve 2>"$work/serve.log" &
for _ in $(seq 1 200); do curl -fs http://127.0.0.1:18089/readyz >/dev/null 2>&1 && break; sleep 0.1; done
id=$(curl -fs 'http://127.0.0.1:18089/api/v1/products?limit=1' | sed -E 's/.*"id":"([^"]+)".*/\1/' | head -c 36)
curl -fs "http://127.0.0.1:18089/api/v1/products/$id" > "$work/product.json"
"$work/bare" -json "$work/product.json" &
sleep 0.5
echo "product $id, $(wc -c < "$work/product.json") bytes, wrk -t2 -c$CONNS -d$DUR"
run() { wrk -t2 -c"$CONNS" -d"$DUR" --latency "$1" | tee "$work/$2.txt" | grep -E "Requests/sec|99%|50%"; }
echo "== bare fiber";  run "http://127.0.0.1:18090/api/v1/products/$id" bare
echo "== commerce (cached)"; run "http://127.0.0.1:18089/api/v1/products/$id" commerce
b=$(awk '/Requests\/sec/ {print $2}' "$work/bare.txt"); c=$(awk '/Requests\/sec/ {print $2}' "$work/commerce.txt")
echo "ratio commerce/bare = $(awk -v c="$c" -v b="$b" 'BEGIN { printf "%.2f", c / b }')"
