// Command gencorpus writes the extraction benchmark's corpus: mixed SIEM
// lines (syslog, firewall, proxy, DNS, Splunk JSON alerts), e-mail text and
// report prose with defanged IOCs of every type, interleaved with the false
// positive traps that trip naive extractors (file names, versions, OIDs,
// dotted dates, 999.1.1.1, hex and base64 noise, code).
//
// Beside the corpus it writes the ground truth: every IOC it planted, once,
// as {"type","value"} JSON lines in the canonical form iocane's contract
// gives (refanged; domains lower case and punycode; IPv6 RFC 5952; hashes
// lower case; CVE upper case; URLs with canonical scheme and host, default
// port dropped, path kept; ASNs as "AS<n>"; the host of every URL and e-mail
// address as a domain or IP). The truth is built from the values the
// generator chose, never by running an extractor, so it scores iocane and
// ioc-extractor alike. The output is deterministic for a seed.
//
//	go run ./bench/gencorpus -size 50MB -out bench/corpus/mixed.txt
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

func main() {
	size := flag.String("size", "50MB", "corpus size (suffix KB, MB or GB, powers of 1024)")
	out := flag.String("out", "bench/corpus/mixed.txt", "corpus file")
	truth := flag.String("truth", "", "ground-truth JSONL file (default: -out with .txt replaced by .truth.jsonl)")
	seed := flag.Uint64("seed", 1, "random seed; the same seed gives the same corpus")
	flag.Parse()
	n, err := parseSize(*size)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus: -size:", err)
		os.Exit(2)
	}
	if *truth == "" {
		*truth = strings.TrimSuffix(*out, ".txt") + ".truth.jsonl"
	}
	if err := run(n, *seed, *out, *truth); err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
}

func run(size int64, seed uint64, out, truthPath string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	g := newGen(seed, w)
	for g.n < size {
		g.block()
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := writeTruth(truthPath, g.truth); err != nil {
		return err
	}
	counts := map[string]int{}
	for k := range g.truth {
		counts[k.Type]++
	}
	fmt.Fprintf(os.Stderr, "gencorpus: %s: %d bytes, seed %d; %s: %d IOCs %v\n", out, g.n, seed, truthPath, len(g.truth), counts)
	return nil
}

// IOC is one ground-truth indicator, in iocane's canonical form.
type IOC struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

func writeTruth(path string, truth map[IOC]struct{}) error {
	all := make([]IOC, 0, len(truth))
	for k := range truth {
		all = append(all, k)
	}
	slices.SortFunc(all, func(a, b IOC) int {
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, k := range all {
		if err := enc.Encode(k); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// parseSize reads "50MB", "512KB", "1GB" or a plain byte count.
func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, x := range []struct {
		suf string
		m   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(u, x.suf) {
			u, mult = strings.TrimSuffix(u, x.suf), x.m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(u), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}
