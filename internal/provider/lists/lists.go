// Package lists matches IOCs against local allow-lists and block-lists: the
// shared engine behind the allowlist and blocklist providers.
//
// A list is a file in one of three formats: a plain list (one IOC, CIDR or
// domain suffix a line, '#' comments), CSV (a value column and an optional
// comment column), or a MISP warninglist (the JSON of
// github.com/MISP/misp-warninglists). Each list carries a label, a TLP
// marking and a weight. Load reads every list into one Matcher, whose
// structures stay fast at a million entries:
//
//   - exact entries (in the canonical form, see canon) and domain suffixes:
//     one open-addressed hash table of 64-bit keyed hashes (see table), so
//     the table holds no pointer and a probe reads one cache line;
//   - domain suffixes are walked label by label from the right, so
//     "example.com" matches "a.b.example.com"; only suffixes with a label
//     count some suffix entry has are probed (usually one);
//   - CIDR tables, which hold the exact IP addresses too: the networks cut
//     the address space into sorted intervals, each naming its innermost
//     network; one search finds them all, IPv4 and IPv6 alike (see
//     cidrTable);
//   - a blocked Bloom filter (16 bits an entry) before the table, so that
//     the many probes that miss stay in cache (see filter);
//   - substrings and regular expressions: a scan over every entry. Its cost
//     grows with the number of such entries (about 10-20 ns per entry per
//     look-up), which suits the few hundred entries the MISP warninglists
//     of these kinds hold; Load warns above 10,000.
//
// A URL or e-mail address is matched as itself and also through its host, in
// the IP, CIDR, exact and suffix structures (Hit.ViaHost says so).
//
// A Matcher is read-only once loaded and safe for concurrent use.
package lists

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/iocane/iocane/internal/tlp"
)

// Kind is how an entry matches, as in a MISP warninglist's "type".
type Kind string

// Entry kinds. KindAuto (plain lists and CSV by default) decides per entry:
// an IP is exact, a CIDR is a network, "*.example.com" or ".example.com" is a
// domain suffix, anything else is an exact string.
const (
	KindAuto      Kind = ""
	KindString    Kind = "string"
	KindSubstring Kind = "substring"
	KindHostname  Kind = "hostname"
	KindCIDR      Kind = "cidr"
	KindRegex     Kind = "regex"
)

func parseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case KindAuto, KindString, KindSubstring, KindHostname, KindCIDR, KindRegex:
		return k, nil
	case "auto":
		return KindAuto, nil
	}
	return "", fmt.Errorf("unknown list kind %q (want auto, string, substring, hostname, cidr or regex)", s)
}

// Format is a list file's format.
type Format string

// List formats. An empty Format is chosen by extension: .csv is CSV, .json
// a MISP warninglist, anything else a plain list.
const (
	FormatText        Format = "text"
	FormatCSV         Format = "csv"
	FormatWarninglist Format = "json"
)

func parseFormat(s string) (Format, error) {
	switch f := strings.ToLower(strings.TrimSpace(s)); f {
	case "":
		return "", nil
	case "text", "txt", "plain":
		return FormatText, nil
	case "csv":
		return FormatCSV, nil
	case "json", "warninglist", "misp":
		return FormatWarninglist, nil
	}
	return "", fmt.Errorf("unknown list format %q (want text, csv or json)", s)
}

// formatOf returns f, or the format the file extension implies.
func formatOf(path string, f Format) Format {
	if f != "" {
		return f
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return FormatCSV
	case ".json":
		return FormatWarninglist
	}
	return FormatText
}

// Source is one list file and how to read it.
type Source struct {
	// Path is the file to read.
	Path string
	// Format is the file's format; empty means by extension.
	Format Format
	// Label names the list in hits. Default: a warninglist's "name", else
	// the file name without its extension.
	Label string
	// TLP is the list's marking, reported with each hit. Default amber.
	TLP tlp.Level
	// Weight in (0,1] scales the provider's signal for a hit. Default 1.
	Weight float64
	// Kind is how entries match; a warninglist's own "type" wins over it.
	// Default auto.
	Kind Kind
	// FS, when set, is where Path is read from (lists bundled into the
	// binary); nil means the local file system.
	FS fs.FS
}

// ParseSources reads a "paths" setting: comma-separated items, each a file
// path optionally followed by ";key=value" options (label, tlp, weight, kind,
// format), e.g. "corp.txt;label=corp;tlp=red, /etc/iocane/misp/*.json".
// A path with glob characters expands to every file it matches, in order.
// def supplies the values an item does not set.
func ParseSources(spec string, def Source) ([]Source, error) {
	if def.Weight == 0 {
		def.Weight = 1
	}
	var out []Source
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, ";")
		s := def
		s.Path = strings.TrimSpace(parts[0])
		for _, opt := range parts[1:] {
			opt = strings.TrimSpace(opt)
			if opt == "" {
				continue
			}
			k, v, ok := strings.Cut(opt, "=")
			if !ok {
				return nil, fmt.Errorf("lists: %s: option %q is not key=value", s.Path, opt)
			}
			if err := s.set(strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)); err != nil {
				return nil, fmt.Errorf("lists: %s: %w", s.Path, err)
			}
		}
		if s.Path == "" {
			return nil, fmt.Errorf("lists: empty path in %q", item)
		}
		if strings.ContainsAny(s.Path, "*?[") {
			matches, err := filepath.Glob(s.Path)
			if err != nil {
				return nil, fmt.Errorf("lists: bad pattern %q: %w", s.Path, err)
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("lists: no file matches %q", s.Path)
			}
			for _, m := range matches {
				c := s
				c.Path = m
				if len(matches) > 1 && s.Label != def.Label {
					c.Label = s.Label + "/" + labelOf(m)
				}
				out = append(out, c)
			}
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// set applies one ";key=value" option.
func (s *Source) set(k, v string) error {
	var err error
	switch k {
	case "label":
		s.Label = v
	case "tlp":
		s.TLP, err = tlp.MustParse(v)
	case "weight":
		s.Weight, err = ParseWeight(v)
	case "kind", "type":
		s.Kind, err = parseKind(v)
	case "format":
		s.Format, err = parseFormat(v)
	default:
		err = fmt.Errorf("unknown option %q (want label, tlp, weight, kind or format)", k)
	}
	return err
}

// ParseWeight reads a weight in (0,1].
func ParseWeight(v string) (float64, error) {
	w, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || w <= 0 || w > 1 {
		return 0, fmt.Errorf("weight %q is not a number in (0,1]", v)
	}
	return w, nil
}

// ParseKind and ParseFormat read the "kind" and "format" settings.
func ParseKind(s string) (Kind, error) { return parseKind(s) }

// ParseFormat reads a "format" setting: text, csv or json ("" = by extension).
func ParseFormat(s string) (Format, error) { return parseFormat(s) }

// labelOf is the file name without directory and extension.
func labelOf(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}
