// Package dbot writes results as Cortex XSOAR context, on Close:
//
//	{"DBotScore": [{"Indicator", "Type", "Vendor": "iocane", "Score", "Reliability"}],
//	 "IP": [...], "Domain": [...], "URL": [...], "File": [...], "Email": [...], "CVE": [...],
//	 "Iocane": [<the results>]}
//
// DBotScore.Score is the verdict's XSOAR score (0 unknown, 1 good, 2
// suspicious, 3 bad) and Type one of XSOAR's indicator types: ip, domain,
// url, file, email, cve (cryptocurrency for Bitcoin addresses, custom for
// ASNs). Reliability is Options.Reliability, default "B - Usually
// reliable". The standard indicator paths (IP.Address, Domain.Name,
// URL.Data, File.MD5/SHA1/SHA256/SHA512, Email.Address, CVE.ID) carry
// Malicious.Vendor and Malicious.Description for score 3, as XSOAR
// integrations do; "Iocane" holds the full results for playbooks. Keys with
// no entries are left out; DBotScore is always present.
package dbot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/output"
	"github.com/iocane/iocane/internal/result"
)

func init() {
	output.Register("dbot", func(w io.Writer, opt output.Options) output.Writer { return &Writer{w: w, opt: opt} })
}

// Vendor is the DBotScore vendor.
const Vendor = "iocane"

// DefaultReliability is the reliability given when Options.Reliability is empty.
const DefaultReliability = "B - Usually reliable"

// Score is one DBotScore entry.
type Score struct {
	Indicator   string `json:"Indicator"`
	Type        string `json:"Type"`
	Vendor      string `json:"Vendor"`
	Score       int    `json:"Score"`
	Reliability string `json:"Reliability"`
}

// Malicious is the standard Malicious block of an indicator context.
type Malicious struct {
	Vendor      string `json:"Vendor"`
	Description string `json:"Description"`
}

// xsoarType is the DBotScore type per IOC type.
var xsoarType = map[ioc.Type]string{
	ioc.IPv4: "ip", ioc.IPv6: "ip", ioc.Domain: "domain", ioc.URL: "url", ioc.Email: "email",
	ioc.MD5: "file", ioc.SHA1: "file", ioc.SHA256: "file", ioc.SHA512: "file", ioc.CVE: "cve",
	ioc.BTC: "cryptocurrency", ioc.ASN: "custom",
}

// Writer collects results and writes the context on Close.
type Writer struct {
	w       io.Writer
	opt     output.Options
	results []result.Result
}

var _ output.Writer = (*Writer)(nil)

// Write keeps r for the context.
func (w *Writer) Write(r result.Result) error {
	w.results = append(w.results, r)
	return nil
}

// Close writes the context.
func (w *Writer) Close() error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Build(w.results, w.opt.Reliability)); err != nil {
		return fmt.Errorf("dbot: %w", err)
	}
	_, err := w.w.Write(buf.Bytes())
	return err
}

// Build returns the XSOAR context for rs.
func Build(rs []result.Result, reliability string) map[string]any {
	if reliability == "" {
		reliability = DefaultReliability
	}
	scores := make([]Score, 0, len(rs))
	paths := map[string][]map[string]any{}
	full := make([]result.Result, 0, len(rs))
	for _, r := range rs {
		typ, ok := xsoarType[r.IOC.Type]
		if !ok {
			typ = "custom"
		}
		scores = append(scores, Score{Indicator: r.IOC.Value, Type: typ, Vendor: Vendor, Score: result.DBotScore(r.Verdict), Reliability: reliability})
		full = append(full, output.Normalize(r))
		key, entry := indicator(r.IOC)
		if key == "" {
			continue
		}
		if r.Verdict == result.Malicious {
			entry["Malicious"] = Malicious{Vendor: Vendor, Description: strings.Join(r.Reasons, "; ")}
		}
		paths[key] = append(paths[key], entry)
	}
	ctx := map[string]any{"DBotScore": scores, "Iocane": full}
	for k, v := range paths {
		ctx[k] = v
	}
	return ctx
}

// indicator returns the standard context path and entry for i.
func indicator(i ioc.IOC) (string, map[string]any) {
	switch i.Type {
	case ioc.IPv4, ioc.IPv6:
		return "IP", map[string]any{"Address": i.Value}
	case ioc.Domain:
		return "Domain", map[string]any{"Name": i.Value}
	case ioc.URL:
		return "URL", map[string]any{"Data": i.Value}
	case ioc.Email:
		return "Email", map[string]any{"Address": i.Value}
	case ioc.CVE:
		return "CVE", map[string]any{"ID": i.Value}
	case ioc.MD5, ioc.SHA1, ioc.SHA256, ioc.SHA512:
		return "File", map[string]any{strings.ToUpper(string(i.Type)): i.Value}
	}
	return "", nil
}
