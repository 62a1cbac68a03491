package ioc

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc/iocgen"
)

func BenchmarkExtract(b *testing.B) {
	in := iocgen.Mixed(8<<20, 1)
	b.SetBytes(int64(len(in)))
	n, ops := 0, 0
	c0 := cpuTime()
	for b.Loop() {
		n = 0
		ops++
		Extract(in, func(Match) { n++ })
	}
	reportCPU(b, c0, ops, len(in))
	b.ReportMetric(float64(n), "matches/op")
}

func BenchmarkExtractReader(b *testing.B) {
	in := iocgen.Mixed(8<<20, 1)
	b.SetBytes(int64(len(in)))
	ops := 0
	c0 := cpuTime()
	defer func() { reportCPU(b, c0, ops, len(in)) }()
	for b.Loop() {
		ops++
		if err := ExtractReader(bytes.NewReader(in), func(Match) {}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMixedSample checks the generator yields every kind of indicator.
func TestMixedSample(t *testing.T) {
	in := iocgen.Mixed(256<<10, 7)
	seen := map[Type]int{}
	Extract(in, func(m Match) { seen[m.Type]++ })
	for _, ty := range []Type{IPv4, Domain, URL, Email, SHA256, CVE, ASN} {
		if seen[ty] == 0 {
			t.Errorf("no %s in generated text", ty)
		}
	}
}

// reportCPU reports MB per CPU-second: on a shared machine wall-clock MB/s
// understates the scanner, CPU time does not (it includes GC work).
func reportCPU(b *testing.B, c0 time.Duration, ops, size int) {
	if d := cpuTime() - c0; d > 0 && ops > 0 {
		b.ReportMetric(float64(ops*size)/1e6/d.Seconds(), "MB/cpu-s")
	}
}

// BenchmarkExtractSpacedDots runs Extract over 1.2 MB of "1 . 1 . ...",
// the worst input for the spaced-address pass: every dot is spaced, and
// an unbounded look around each would make the pass quadratic.
func BenchmarkExtractSpacedDots(b *testing.B) {
	in := []byte(strings.Repeat("1 . ", 300_000))
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		Extract(in, func(Match) {})
	}
}
