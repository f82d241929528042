// Package procstat reads this process's resource use from /proc, for
// benchmarks that report memory next to their timings.
package procstat

import (
	"os"
	"strconv"
	"strings"
)

// RSSKiB is the resident set size of this process in KiB (0 where /proc
// is not available).
func RSSKiB() int64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
