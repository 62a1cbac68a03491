package ioc

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// TestSeenMatchesMap checks Seen against a Go map over enough values to
// grow the table many times, with values that share bytes across the
// type/value boundary, empty and long values.
func TestSeenMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s Seen
	want := map[IOC]bool{}
	types := []Type{Domain, URL, Type("do"), Type("domai"), Type("")}
	for k := 0; k < 200_000; k++ {
		var v string
		switch r.IntN(4) {
		case 0:
			v = fmt.Sprintf("n%d.example", r.IntN(50_000))
		case 1:
			v = "main" + strings.Repeat("x", r.IntN(300)) // lengths across the one-byte varint limit
		case 2:
			v = ""
		default:
			v = fmt.Sprintf("%x", r.Uint64()%100_000)
		}
		i := IOC{types[r.IntN(len(types))], v}
		isNew := !want[i]
		want[i] = true
		if got := s.Add(i); got != isNew {
			t.Fatalf("Add(%v) = %v after %d adds, want %v", i, got, k, isNew)
		}
	}
	if s.Len() != len(want) {
		t.Errorf("Len() = %d, want %d", s.Len(), len(want))
	}
	for i := range want {
		if s.Add(i) {
			t.Fatalf("Add(%v) = true for a value seen before", i)
		}
	}
	// Values larger than a chunk, and small ones around them.
	big := strings.Repeat("b", seenChunk+3)
	for _, v := range []string{big, "after", big + "x", "after2", big} {
		i := IOC{URL, v}
		isNew := !want[i]
		want[i] = true
		if got := s.Add(i); got != isNew {
			t.Fatalf("Add(%d-byte value) = %v, want %v", len(v), got, isNew)
		}
	}
	if n1 := (IOC{Domain, "n1.example"}); s.Add(n1) == want[n1] {
		t.Error("Add after large values lost an entry")
	}
	// The boundary between type and value is part of the key.
	var b Seen
	if !b.Add(IOC{"do", "main"}) || !b.Add(IOC{"dom", "ain"}) || !b.Add(IOC{"", "domain"}) {
		t.Error("Seen confuses IOCs whose type and value concatenate alike")
	}
}

func TestSeenConcurrent(t *testing.T) {
	s := NewSeen()
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := 0
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for k := 0; k < 5000; k++ {
				if s.Add(IOC{IPv4, fmt.Sprintf("10.0.%d.%d", k/256, k%256)}) {
					n++
				}
			}
			mu.Lock()
			added += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if added != 5000 || s.Len() != 5000 {
		t.Errorf("4 goroutines added %d new values, Len %d; want 5000 each", added, s.Len())
	}
}

func BenchmarkSeenAdd(b *testing.B) {
	vals := make([]IOC, 1<<20)
	for k := range vals {
		vals[k] = IOC{Domain, fmt.Sprintf("host%d.example-%d.com", k%700_000, k%13)}
	}
	b.ResetTimer()
	for b.Loop() {
		var s Seen
		for _, v := range vals {
			s.Add(v)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(vals)), "ns/add")
}

// realisticVals is like the 50 MB corpus: 852k values, 608k distinct.
func realisticVals() []IOC {
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]IOC, 852_000)
	for k := range vals {
		j := k
		if r.IntN(100) < 29 && k > 0 {
			j = r.IntN(k)
		}
		t := Types[j%len(Types)]
		vals[k] = IOC{t, fmt.Sprintf("value-%d.%x.example.com/path", j, j*7919)}
	}
	// Side by side in memory, as a scanner's values are when they reach
	// the set, rather than scattered over the heap.
	var all strings.Builder
	for _, v := range vals {
		all.WriteString(v.Value)
	}
	text, off := all.String(), 0
	for k := range vals {
		n := len(vals[k].Value)
		vals[k].Value = text[off : off+n]
		off += n
	}
	return vals
}

func BenchmarkSetAddRealistic(b *testing.B) {
	vals := realisticVals()
	for b.Loop() {
		var s Set
		for _, v := range vals {
			s.Add(v)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(vals)), "ns/add")
}

func BenchmarkSetAddAllRealistic(b *testing.B) {
	vals := realisticVals()
	isNew := make([]bool, 64)
	for b.Loop() {
		var s Set
		s.Grow(len(vals) * 3 / 4) // as extract sizes it from the file
		for k := 0; k < len(vals); k += 64 {
			v := vals[k:min(k+64, len(vals))]
			s.AddAll(v, isNew[:len(v)])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(vals)), "ns/add")
}

// TestSetAddAllMatchesMap checks AddAll, in batches of every size and with
// the same value several times in one batch, against a Go map; half the
// sets are sized first with Grow, one of them too small.
func TestSetAddAllMatchesMap(t *testing.T) {
	for _, grow := range []int{0, 10, 1 << 16} {
		r := rand.New(rand.NewPCG(3, uint64(grow)))
		var s Set
		s.Grow(grow)
		want := map[IOC]bool{}
		types := []Type{Domain, URL, IPv4, Type("x-custom"), Type("")}
		isNew := make([]bool, 200)
		for added := 0; added < 150_000; {
			n := 1 + r.IntN(len(isNew))
			batch := make([]IOC, n)
			for k := range batch {
				if k > 0 && r.IntN(8) == 0 {
					batch[k] = batch[r.IntN(k)] // a repeat inside the batch
					continue
				}
				batch[k] = IOC{types[r.IntN(len(types))], fmt.Sprintf("v%d", r.IntN(60_000))}
			}
			s.AddAll(batch, isNew)
			for k, i := range batch {
				if got := isNew[k]; got == want[i] {
					t.Fatalf("grow %d: AddAll reported %v new = %v; seen before: %v", grow, i, got, want[i])
				}
				want[i] = true
			}
			added += n
		}
		if s.Len() != len(want) {
			t.Errorf("grow %d: Len() = %d, want %d", grow, s.Len(), len(want))
		}
	}
}

// TestSetHas checks that Has answers as Add would, without adding.
func TestSetHas(t *testing.T) {
	var s Set
	if s.Has(IOC{Domain, "a.example"}) {
		t.Error("an empty set has a value")
	}
	for k := range 5000 {
		s.Add(IOC{Domain, fmt.Sprintf("h%d.example", k)})
	}
	for k := range 10_000 {
		i := IOC{Domain, fmt.Sprintf("h%d.example", k)}
		if got := s.Has(i); got != (k < 5000) {
			t.Fatalf("Has(%v) = %v", i, got)
		}
	}
	if s.Has(IOC{URL, "h1.example"}) {
		t.Error("Has ignores the type")
	}
	if s.Len() != 5000 {
		t.Errorf("Len() = %d after Has calls, want 5000", s.Len())
	}
}
