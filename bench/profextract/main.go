// Command profextract profiles iocane's extraction on a file, the way
// `iocane extract --input-format text` runs it, so that the time of each
// stage can be attributed to functions:
//
//	go run ./bench/profextract -stage full -cpuprofile cpu.prof bench/corpus/mixed.txt
//	go tool pprof -top cpu.prof
//
// -stage scan runs ioc.ExtractReader alone; -stage full adds what the
// extract command does per IOC: input.ReadBatches, per-run deduplication
// (Set.AddAll), classification (Internal) and JSON encoding (encoding/json
// here; the command's own encoder is faster) to io.Discard. The command
// itself is profiled by BenchmarkExtractCorpus in cmd/iocane.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/ioc"
)

func main() {
	stage := flag.String("stage", "full", "scan (ioc.ExtractReader only) or full (as iocane extract)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if flag.NArg() != 1 || (*stage != "scan" && *stage != "full") {
		fmt.Fprintln(os.Stderr, "usage: profextract [-stage scan|full] [-cpuprofile FILE] FILE")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *stage, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "profextract:", err)
		os.Exit(1)
	}
}

func run(path, stage, cpuprofile string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if cpuprofile != "" {
		pf, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	t0, c0 := time.Now(), cpuTime()
	n := 0
	switch stage {
	case "scan":
		err = ioc.ExtractReader(f, func(ioc.Match) { n++ })
	default:
		w := bufio.NewWriterSize(io.Discard, 64<<10)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		var seen ioc.Set
		seen.Grow(int(st.Size() / 128))
		var iocs []ioc.IOC
		var isNew []bool
		err = input.ReadBatches(context.Background(), f, path, input.Options{Format: input.Text}, func(items []input.Item) error {
			iocs = iocs[:0]
			for _, it := range items {
				iocs = append(iocs, it.IOC)
			}
			isNew = append(isNew[:0], make([]bool, len(items))...)
			seen.AddAll(iocs, isNew)
			for k, it := range items {
				if !isNew[k] {
					continue
				}
				n++
				in, why := ioc.Internal(it.IOC)
				if err := enc.Encode(struct {
					ioc.IOC
					Raw      string `json:"raw,omitempty"`
					Internal bool   `json:"internal,omitempty"`
					Why      string `json:"internal_reason,omitempty"`
				}{it.IOC, it.Raw, in, why}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		return err
	}
	wall, cpu := time.Since(t0), cpuTime()-c0
	mb := float64(st.Size()) / 1e6
	fmt.Fprintf(os.Stderr, "%s: %d bytes, %d IOCs (%s), wall %.3fs = %.1f MB/s, cpu %.3fs = %.1f MB/cpu-s\n",
		path, st.Size(), n, stage, wall.Seconds(), mb/wall.Seconds(), cpu.Seconds(), mb/cpu.Seconds())
	return nil
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
