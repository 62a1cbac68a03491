package main

import (
	"io"
	"os"
	"testing"
)

// BenchmarkExtractCorpus runs `iocane extract --input-format text` on the
// issue 2 corpus (bench/run.sh generates it; IOCANE_BENCH_CORPUS names
// another file), output discarded, so that the command's time can be
// profiled function by function:
//
//	go test -run '^$' -bench ExtractCorpus -cpu 1 -cpuprofile cpu.prof ./cmd/iocane
func BenchmarkExtractCorpus(b *testing.B) {
	path := os.Getenv("IOCANE_BENCH_CORPUS")
	if path == "" {
		path = "../../bench/corpus/mixed.txt"
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Skipf("no corpus (%v): run bench/run.sh or go run ./bench/gencorpus first", err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		root := newRoot()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs([]string{"extract", "--input-format", "text", path})
		if err := root.Execute(); err != nil {
			b.Fatal(err)
		}
	}
}
