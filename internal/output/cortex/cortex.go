// Package cortex writes results as Cortex analyzer reports, the JSON a
// Cortex analyzer prints and TheHive reads:
//
//	{"success": true,
//	 "summary": {"taxonomies": [{"level", "namespace": "iocane", "predicate", "value"}]},
//	 "full": <the result>, "artifacts": [], "operations": []}
//
// The first taxonomy is the verdict (predicate "Score", value the score,
// level info|safe|suspicious|malicious from the verdict); one more follows
// for each source that answered with a signal (predicate the provider, value
// its summary, level from its own signals). TheHive shows them as
// "iocane:Score=98" mini-reports. An analyzer reports on one observable, so
// one result is written as one report object; several, as a JSON array of
// reports in input order (an empty run writes []). Cortex reads only the
// first shape: to run as an analyzer, use `iocane cortex JOBDIR`
// (internal/cortexjob), which always writes one report.
package cortex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/iocane/iocane/internal/output"
	"github.com/iocane/iocane/internal/result"
)

func init() {
	output.Register("cortex", func(w io.Writer, _ output.Options) output.Writer { return &Writer{w: w} })
}

// Namespace is the taxonomy namespace.
const Namespace = "iocane"

// Taxonomy is one Cortex summary taxonomy.
type Taxonomy struct {
	Level     string `json:"level"`
	Namespace string `json:"namespace"`
	Predicate string `json:"predicate"`
	Value     string `json:"value"`
}

// Report is one analyzer report.
type Report struct {
	Success bool `json:"success"`
	Summary struct {
		Taxonomies []Taxonomy `json:"taxonomies"`
	} `json:"summary"`
	Full       result.Result `json:"full"`
	Artifacts  []any         `json:"artifacts"`
	Operations []any         `json:"operations"`
}

// Writer collects results and writes the report(s) on Close.
type Writer struct {
	w       io.Writer
	reports []Report
}

var _ output.Writer = (*Writer)(nil)

// Write keeps r's report.
func (w *Writer) Write(r result.Result) error {
	w.reports = append(w.reports, Build(r))
	return nil
}

// Close writes one report, or an array of them.
func (w *Writer) Close() error {
	var v any = w.reports
	switch len(w.reports) {
	case 0:
		v = []Report{}
	case 1:
		v = w.reports[0]
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("cortex: %w", err)
	}
	_, err := w.w.Write(buf.Bytes())
	return err
}

// Build returns r's report.
func Build(r result.Result) Report {
	rep := Report{Success: true, Full: output.Normalize(r), Artifacts: []any{}, Operations: []any{}}
	tax := []Taxonomy{{Level: result.CortexLevel(r.Verdict), Namespace: Namespace, Predicate: "Score", Value: strconv.Itoa(r.Score)}}
	for _, s := range r.Sources {
		if s.Status != "ok" || (s.Malicious == 0 && s.Benign == 0) {
			continue
		}
		value := s.Summary
		if value == "" {
			value = s.Status
		}
		tax = append(tax, Taxonomy{Level: level(s), Namespace: Namespace, Predicate: s.Provider, Value: value})
	}
	rep.Summary.Taxonomies = tax
	return rep
}

// level grades one source by its signals, on the score package's scale.
func level(s result.Source) string {
	switch {
	case s.Malicious >= 0.7:
		return "malicious"
	case s.Malicious >= 0.3:
		return "suspicious"
	case s.Benign >= 0.5:
		return "safe"
	}
	return "info"
}
