//go:build !unix

package lists

import "time"

// cpuTime is unknown here; BenchmarkLists1M then reports no CPU figure.
func cpuTime() time.Duration { return 0 }
