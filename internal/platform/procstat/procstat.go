// Package procstat reads this process's resource use from /proc, for
// benchmarks that report memory next to their timings.
package procstat

import (
	"os"
	"runtime"
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

// LiveKiB is the Go memory in use after a collection: live heap plus
// goroutine stacks. Unlike RSS it does not keep memory an earlier run
// freed, so deltas measure what was added.
func LiveKiB() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse+m.StackInuse) / 1024
}
