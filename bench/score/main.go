// Command score computes per-type precision and recall of an extractor's
// output, JSON lines of {"type","value"} (other fields are ignored), against
// a ground truth.
//
//	score -truth bench/corpus/mixed.truth.jsonl -got out.jsonl -name iocane
//	score -cases internal/ioc/testdata/extract_cases.json -got cases.jsonl -name ioc-extractor
//
// With -truth both sides are sets over the whole run (extractors
// deduplicate per run). With -cases the output lines carry "case", the name
// of the case they came from, and each case is scored on its own, as
// internal/ioc's TestPrecisionRecall does: a value counts once per case.
// -examples N prints up to N false positives and false negatives per type
// to standard error.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

type record struct {
	Case  string `json:"case"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

type key struct{ Type, Value string }

type counts struct{ truth, got, tp, fp, fn int }

// order is iocane's type order; any other type follows alphabetically.
var order = []string{"ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512", "cve", "asn", "btc"}

func main() {
	truth := flag.String("truth", "", "ground-truth JSONL of {type,value}")
	cases := flag.String("cases", "", "extract_cases.json ([{name,input,want:[{type,value}]}])")
	got := flag.String("got", "", "the extractor's JSONL output")
	name := flag.String("name", "", "tool name for the table's title")
	examples := flag.Int("examples", 0, "print up to N false positives and negatives per type on stderr")
	flag.Parse()
	if *got == "" || (*truth == "") == (*cases == "") {
		fmt.Fprintln(os.Stderr, "usage: score (-truth FILE | -cases FILE) -got FILE [-name NAME] [-examples N]")
		os.Exit(2)
	}
	var per map[string]*counts
	var err error
	if *truth != "" {
		per, err = scoreTruth(*truth, *got, *examples)
	} else {
		per, err = scoreCases(*cases, *got, *examples)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "score:", err)
		os.Exit(1)
	}
	printTable(os.Stdout, *name, per)
}

func readJSONL(path string, fn func(record)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		fn(r)
	}
	return sc.Err()
}

func get(per map[string]*counts, t string) *counts {
	if per[t] == nil {
		per[t] = &counts{}
	}
	return per[t]
}

func scoreTruth(truthPath, gotPath string, examples int) (map[string]*counts, error) {
	want := map[key]bool{}
	per := map[string]*counts{}
	if err := readJSONL(truthPath, func(r record) {
		k := key{r.Type, r.Value}
		if !want[k] {
			want[k] = true
			get(per, r.Type).truth++
		}
	}); err != nil {
		return nil, err
	}
	got := map[key]bool{}
	fps := map[string][]string{}
	if err := readJSONL(gotPath, func(r record) {
		k := key{r.Type, r.Value}
		if got[k] {
			return
		}
		got[k] = true
		c := get(per, r.Type)
		c.got++
		if want[k] {
			c.tp++
		} else {
			c.fp++
			if len(fps[r.Type]) < examples {
				fps[r.Type] = append(fps[r.Type], r.Value)
			}
		}
	}); err != nil {
		return nil, err
	}
	fns := map[string][]string{}
	for k := range want {
		if !got[k] {
			get(per, k.Type).fn++
			if len(fns[k.Type]) < examples {
				fns[k.Type] = append(fns[k.Type], k.Value)
			}
		}
	}
	printExamples(fps, fns)
	return per, nil
}

func scoreCases(casesPath, gotPath string, examples int) (map[string]*counts, error) {
	data, err := os.ReadFile(casesPath)
	if err != nil {
		return nil, err
	}
	var cs []struct {
		Name string   `json:"name"`
		Want []record `json:"want"`
	}
	if err := json.Unmarshal(data, &cs); err != nil {
		return nil, fmt.Errorf("%s: %w", casesPath, err)
	}
	got := map[string]map[key]bool{}
	if err := readJSONL(gotPath, func(r record) {
		if got[r.Case] == nil {
			got[r.Case] = map[key]bool{}
		}
		got[r.Case][key{r.Type, r.Value}] = true
	}); err != nil {
		return nil, err
	}
	per := map[string]*counts{}
	fps, fns := map[string][]string{}, map[string][]string{}
	known := map[string]bool{}
	for _, c := range cs {
		known[c.Name] = true
		want := map[key]bool{}
		for _, w := range c.Want {
			if !want[key{w.Type, w.Value}] {
				want[key{w.Type, w.Value}] = true
				get(per, w.Type).truth++
			}
		}
		for k := range got[c.Name] {
			cn := get(per, k.Type)
			cn.got++
			if want[k] {
				cn.tp++
			} else {
				cn.fp++
				if len(fps[k.Type]) < examples {
					fps[k.Type] = append(fps[k.Type], fmt.Sprintf("%s (case %q)", k.Value, c.Name))
				}
			}
		}
		for k := range want {
			if !got[c.Name][k] {
				get(per, k.Type).fn++
				if len(fns[k.Type]) < examples {
					fns[k.Type] = append(fns[k.Type], fmt.Sprintf("%s (case %q)", k.Value, c.Name))
				}
			}
		}
	}
	for n := range got {
		if !known[n] {
			return nil, fmt.Errorf("%s: output for unknown case %q", gotPath, n)
		}
	}
	printExamples(fps, fns)
	return per, nil
}

func printExamples(fps, fns map[string][]string) {
	for _, t := range types(fps, fns) {
		for _, v := range fps[t] {
			fmt.Fprintf(os.Stderr, "FP %s %s\n", t, v)
		}
		for _, v := range fns[t] {
			fmt.Fprintf(os.Stderr, "FN %s %s\n", t, v)
		}
	}
}

func types[V any](ms ...map[string]V) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		for t := range m {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	rank := func(t string) int {
		if i := slices.Index(order, t); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortFunc(out, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return out
}

// printTable writes a Markdown table: one row per type and a total.
func printTable(w io.Writer, name string, per map[string]*counts) {
	if name != "" {
		fmt.Fprintf(w, "%s\n\n", name)
	}
	fmt.Fprintln(w, "| type | truth | found | TP | FP | FN | precision | recall |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|")
	var all counts
	for _, t := range types(per) {
		c := per[t]
		all.truth, all.got, all.tp, all.fp, all.fn = all.truth+c.truth, all.got+c.got, all.tp+c.tp, all.fp+c.fp, all.fn+c.fn
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %s | %s |\n", t, c.truth, c.got, c.tp, c.fp, c.fn, ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn))
	}
	fmt.Fprintf(w, "| **all** | %d | %d | %d | %d | %d | %s | %s |\n", all.truth, all.got, all.tp, all.fp, all.fn, ratio(all.tp, all.tp+all.fp), ratio(all.tp, all.tp+all.fn))
}

func ratio(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}
