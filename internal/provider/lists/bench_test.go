package lists

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

// benchMix is the entry mix of BenchmarkLists1M: 1,000,000 entries in all.
var benchMix = []struct {
	kind string
	n    int
}{
	{"ipv4", 250_000},
	{"ipv6", 50_000},
	{"domain", 200_000},
	{"suffix", 150_000},
	{"cidr4", 80_000},
	{"cidr6", 20_000},
	{"sha256", 150_000},
	{"md5", 100_000},
}

// benchGen makes entries and queries reproducibly.
type benchGen struct{ r *rand.Rand }

func (g benchGen) ipv4() netip.Addr {
	return netip.AddrFrom4([4]byte{byte(1 + g.r.IntN(222)), byte(g.r.IntN(256)), byte(g.r.IntN(256)), byte(g.r.IntN(256))})
}

func (g benchGen) ipv6() netip.Addr {
	var b [16]byte
	b[0], b[1] = 0x20, 0x01
	for i := 2; i < 16; i++ {
		b[i] = byte(g.r.IntN(256))
	}
	return netip.AddrFrom16(b)
}

func (g benchGen) word() string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6+g.r.IntN(10))
	for i := range b {
		b[i] = letters[g.r.IntN(len(letters))]
	}
	return string(b)
}

func (g benchGen) domain() string {
	tlds := []string{"com", "net", "org", "info", "ru", "xyz", "top", "io"}
	return g.word() + "." + tlds[g.r.IntN(len(tlds))]
}

func (g benchGen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.IntN(16)]
	}
	return string(b)
}

// entry returns one list line of kind k and a query that hits it.
func (g benchGen) entry(k string) (line string, hit ioc.IOC) {
	switch k {
	case "ipv4":
		a := g.ipv4()
		return a.String(), ioc.IOC{Type: ioc.IPv4, Value: a.String()}
	case "ipv6":
		a := g.ipv6()
		return a.String(), ioc.IOC{Type: ioc.IPv6, Value: a.String()}
	case "domain":
		d := g.domain()
		return d, ioc.IOC{Type: ioc.Domain, Value: d}
	case "suffix":
		d := g.domain()
		return "*." + d, ioc.IOC{Type: ioc.URL, Value: "https://" + g.word() + "." + d + "/login.php"}
	case "cidr4":
		p := netip.PrefixFrom(g.ipv4(), 16+g.r.IntN(15)).Masked()
		a := p.Addr().As4()
		a[3] |= byte(g.r.IntN(2))
		return p.String(), ioc.IOC{Type: ioc.IPv4, Value: netip.AddrFrom4(a).String()}
	case "cidr6":
		p := netip.PrefixFrom(g.ipv6(), 32+g.r.IntN(33)).Masked()
		a := p.Addr().As16()
		a[15] = byte(g.r.IntN(256))
		return p.String(), ioc.IOC{Type: ioc.IPv6, Value: netip.AddrFrom16(a).String()}
	case "sha256":
		h := g.hex(64)
		return h, ioc.IOC{Type: ioc.SHA256, Value: h}
	default:
		h := g.hex(32)
		return h, ioc.IOC{Type: ioc.MD5, Value: h}
	}
}

// miss returns a query of the same kind that (almost surely) hits nothing.
func (g benchGen) miss(k string) ioc.IOC {
	switch k {
	case "ipv4", "cidr4":
		return ioc.IOC{Type: ioc.IPv4, Value: g.ipv4().String()}
	case "ipv6", "cidr6":
		return ioc.IOC{Type: ioc.IPv6, Value: g.ipv6().String()}
	case "domain":
		return ioc.IOC{Type: ioc.Domain, Value: "www." + g.word() + ".example"}
	case "suffix":
		return ioc.IOC{Type: ioc.URL, Value: "http://" + g.word() + ".example/a/b?c=d"}
	case "sha256":
		return ioc.IOC{Type: ioc.SHA256, Value: g.hex(64)}
	default:
		return ioc.IOC{Type: ioc.MD5, Value: g.hex(32)}
	}
}

// writeBenchLists writes the 1M-entry mix into two files (an allow-list and
// a block-list, alternating lines) and returns 65,536 queries, half hits,
// with the entry kind each was drawn for.
func writeBenchLists(b *testing.B, dir string) ([]Source, []ioc.IOC, []string) {
	b.Helper()
	g := benchGen{rand.New(rand.NewPCG(1, 2))}
	var srcs []Source
	var ws []*bufio.Writer
	var fs []*os.File
	for _, n := range []string{"allow.txt", "block.txt"} {
		p := filepath.Join(dir, n)
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		fs, ws = append(fs, f), append(ws, bufio.NewWriterSize(f, 1<<20))
		srcs = append(srcs, Source{Path: p, TLP: tlp.Amber, Weight: 1})
	}
	const nq = 1 << 16
	var hits []ioc.IOC
	var hitKinds []string
	total := 0
	for _, mix := range benchMix {
		for i := 0; i < mix.n; i++ {
			line, hit := g.entry(mix.kind)
			fmt.Fprintln(ws[total%2], line)
			total++
			if g.r.IntN(1_000_000/(nq/2)+1) == 0 && len(hits) < nq/2 {
				hits, hitKinds = append(hits, hit), append(hitKinds, mix.kind)
			}
		}
	}
	for i, w := range ws {
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := fs[i].Close(); err != nil {
			b.Fatal(err)
		}
	}
	queries, kinds := make([]ioc.IOC, 0, nq), make([]string, 0, nq)
	for len(queries) < nq {
		if len(queries)%2 == 0 && len(hits) > 0 {
			j := (len(queries) / 2) % len(hits)
			queries, kinds = append(queries, hits[j]), append(kinds, hitKinds[j])
		} else {
			k := benchMix[g.r.IntN(len(benchMix))].kind
			queries, kinds = append(queries, g.miss(k)), append(kinds, k)
		}
	}
	g.r.Shuffle(len(queries), func(i, j int) {
		queries[i], queries[j] = queries[j], queries[i]
		kinds[i], kinds[j] = kinds[j], kinds[i]
	})
	return srcs, queries, kinds
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// BenchmarkLists1M is issue 3's acceptance 5: 1,000,000 allow-list and
// block-list entries (exact IPv4/IPv6, exact domains, domain suffixes, CIDRs
// v4/v6, SHA-256 and MD5) loaded from files, then look-ups of a mix of hits
// and misses across the types. It reports look-ups/s (one goroutine; run
// with -cpu 1) by wall clock and by the process's CPU time, the heap the
// loaded lists hold and the load time.
//
//	go test -run '^$' -bench BenchmarkLists1M -benchtime 3s -cpu 1 ./internal/provider/lists/
func BenchmarkLists1M(b *testing.B) {
	srcs, queries, _ := writeBenchLists(b, b.TempDir())
	before := heapInUse()
	start := time.Now()
	m, err := Load(srcs, nil)
	if err != nil {
		b.Fatal(err)
	}
	load := time.Since(start)
	after := heapInUse()
	if m.Len() < 990_000 || m.Skipped() != 0 {
		b.Fatalf("loaded %d entries, skipped %d", m.Len(), m.Skipped())
	}

	found, n := 0, 0
	cpu0 := cpuTime()
	for b.Loop() {
		if len(m.Match(queries[n&(len(queries)-1)])) > 0 {
			found++
		}
		n++
	}
	elapsed, cpu := b.Elapsed(), cpuTime()-cpu0
	if n >= len(queries) && (found < n*45/100 || found > n*55/100) {
		b.Fatalf("%d of %d look-ups hit; want about half", found, n)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "lookups/s")
	if cpu > 0 {
		// On a shared machine wall time counts other people's work; CPU
		// time (this process only, GC included) does not.
		b.ReportMetric(float64(n)/cpu.Seconds(), "lookups/cpu-s")
	}
	b.ReportMetric(float64(after-before)/(1<<20), "heap-MB")
	b.ReportMetric(float64(after)/(1<<20), "heap-total-MB")
	b.ReportMetric(load.Seconds(), "load-s")
	b.ReportMetric(float64(m.Len()), "entries")
	b.ReportMetric(float64(found)/float64(n), "hit-ratio")
	runtime.KeepAlive(m)
}

// BenchmarkLists1MByKind loads BenchmarkLists1M's lists once and times the
// look-ups of each kind of query apart (half hits, half misses each), to
// show where a look-up's time goes.
//
//	go test -run '^$' -bench Lists1MByKind -cpu 1 ./internal/provider/lists/
func BenchmarkLists1MByKind(b *testing.B) {
	srcs, queries, kinds := writeBenchLists(b, b.TempDir())
	m, err := Load(srcs, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, mix := range benchMix {
		var qs []ioc.IOC
		for i, q := range queries {
			if kinds[i] == mix.kind {
				qs = append(qs, q)
			}
		}
		b.Run(mix.kind, func(b *testing.B) {
			n := 0
			cpu0 := cpuTime()
			for b.Loop() {
				_ = m.Match(qs[n%len(qs)])
				n++
			}
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(n)/cpu.Seconds(), "lookups/cpu-s")
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lookups/s")
		})
	}
}

// BenchmarkBaselineMap1M is the yardstick BenchmarkLists1M runs beside: one
// plain Go map[string]bool of 1,000,000 random 20-byte keys, looked up with
// a mix of hits and misses. It shows what a single random look-up in a large
// map costs on the machine at that moment (shared machines vary).
func BenchmarkBaselineMap1M(b *testing.B) {
	g := benchGen{rand.New(rand.NewPCG(3, 4))}
	set := make(map[string]bool, 1_000_000)
	queries := make([]string, 0, 1<<16)
	for i := 0; i < 1_000_000; i++ {
		k := g.hex(20)
		set[k] = true
		if i%30 == 0 && len(queries) < cap(queries) {
			queries = append(queries, k, g.hex(20))
		}
	}
	for len(queries) < cap(queries) {
		queries = append(queries, g.hex(20))
	}
	found, n := 0, 0
	cpu0 := cpuTime()
	for b.Loop() {
		if set[queries[n&(len(queries)-1)]] {
			found++
		}
		n++
	}
	elapsed, cpu := b.Elapsed(), cpuTime()-cpu0
	b.ReportMetric(float64(n)/elapsed.Seconds(), "lookups/s")
	if cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "lookups/cpu-s")
	}
	b.ReportMetric(float64(found)/float64(n), "hit-ratio")
}
