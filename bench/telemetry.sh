#!/usr/bin/env bash
# Overhead of telemetry export (issue: ≤ 10% at 100% sampling, ≤ 2% at
# 10%): the cached product read and place order through the whole app,
# with nothing exported, with OTLP export at 100% and at 10% sampling, in
# ROUNDS interleaved rounds (each round runs the three settings back to
# back, starting at a different one). Prints, per benchmark and setting,
# the median CPU time per operation, the median of the per-round ratios to
# "off" (a round's settings ran under the same neighbours), and the
# allocations per operation.
#   bench/telemetry.sh [ROUNDS]      (default 15)
#   SKIP_ORDERS=1 bench/telemetry.sh  (the reads only)
set -euo pipefail
ROUNDS=${1:-15}
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/server.test" ./internal/server/
run() { # name benchtime
	(cd internal/server && TELEMETRY_BENCH_ROUNDS=$ROUNDS "$bin/server.test" -test.run '^$' -test.bench "^Benchmark$1\$" \
		-test.benchtime "$2" -test.cpu 1 -test.benchmem) | grep "^Benchmark$1/" | tee "${TMPDIR:-/tmp}/telemetry-$1.txt"
}
report() { # results (also kept in $TMPDIR/telemetry-<benchmark>.txt)
	awk '
	{
		split($1, part, "/"); setting = part[2]; round = 0
		if (split(setting, nm, "#") == 2) { setting = nm[1]; round = nm[2] + 0 }
		for (i = 2; i <= NF; i++) {
			if ($i == "cpu-ns/op") cpu[setting, round] = $(i-1)
			if ($i == "allocs/op") allocs[setting] = allocs[setting] " " $(i-1)
		}
		if (round + 1 > rounds) rounds = round + 1
		seen[setting] = 1
	}
	function median(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		for (s in seen) {
			c = ""; q = ""
			for (r = 0; r < rounds; r++) {
				c = c " " cpu[s, r]
				if (cpu["off", r] > 0) q = q " " cpu[s, r] / cpu["off", r]
			}
			printf "  %-18s cpu %9.1f µs/op   ×%.3f of off (median of %d rounds)   %s allocs/op\n", s, median(c) / 1000, median(q), rounds, median(allocs[s])
		}
	}' <<<"$1" | sort
}
echo "cached product read (100,000 GETs a round after a second of warm-up, one client, GOMAXPROCS=1):"
report "$(run ProductGetTelemetry 100000x)"
[ -n "${SKIP_ORDERS:-}" ] && exit 0
echo "place order (300 orders a round):"
report "$(run PlaceOrderTelemetry 300x)"
