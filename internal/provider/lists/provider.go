package lists

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/tlp"
)

// FromConfig loads the lists a provider's settings name, for the allowlist
// and blocklist providers:
//
//   - paths: comma-separated list files, each optionally followed by
//     ";label=...;tlp=...;weight=...;kind=...;format=..." (see ParseSources).
//     No default; when empty FromConfig returns a nil Matcher.
//   - format: text, csv or json for every file; default by extension
//     (.csv CSV, .json MISP warninglist, anything else a plain list).
//   - kind: how plain and CSV entries match; default auto.
//   - tlp: the lists' marking; default amber.
//   - weight: the signal a hit gives, in (0,1]; default 1.
//   - label: the label of every list; default the file name (or a
//     warninglist's name).
//
// It reads the files: for a local source that is its setup, so a missing
// file fails here, when the provider is built, rather than on every look-up.
func FromConfig(cfg provider.Config) (*Matcher, error) {
	paths := strings.TrimSpace(cfg.Setting("paths", ""))
	if paths == "" {
		return nil, nil
	}
	def := Source{TLP: tlp.Amber, Weight: 1, Label: cfg.Setting("label", "")}
	var err error
	if def.Format, err = parseFormat(cfg.Setting("format", "")); err != nil {
		return nil, fmt.Errorf("lists: %w", err)
	}
	if def.Kind, err = parseKind(cfg.Setting("kind", "")); err != nil {
		return nil, fmt.Errorf("lists: %w", err)
	}
	if def.TLP, err = tlp.MustParse(cfg.Setting("tlp", "amber")); err != nil {
		return nil, fmt.Errorf("lists: %w", err)
	}
	if def.Weight, err = ParseWeight(cfg.Setting("weight", "1")); err != nil {
		return nil, fmt.Errorf("lists: %w", err)
	}
	srcs, err := ParseSources(paths, def)
	if err != nil || len(srcs) == 0 {
		return nil, err
	}
	m, err := Load(srcs, cfg.Logger)
	if err != nil {
		return nil, err
	}
	if cfg.Logger != nil {
		cfg.Logger.Info("lists: loaded", "lists", len(m.lists), "entries", m.entries, "skipped", m.skipped)
	}
	return m, nil
}

// Describe is the short form of hits for a Summary: "corp (example.com)",
// with " and N more" when there are several.
func Describe(hits []Hit) string {
	if len(hits) == 0 {
		return ""
	}
	h := hits[0]
	s := h.List + " (" + h.Entry
	if h.ViaHost {
		s += ", by host"
	}
	s += ")"
	if len(hits) > 1 {
		s += fmt.Sprintf(" and %d more", len(hits)-1)
	}
	return s
}

// Strongest returns the highest weight among hits.
func Strongest(hits []Hit) float64 {
	w := 0.0
	for _, h := range hits {
		w = max(w, h.Weight)
	}
	return w
}

// Data is the typed Finding data for hits: lists, entries and kinds (one per
// hit, same order), comments when any, via_host when every hit came through
// a URL's or address's host, and tlp, the most restricted list marking.
func Data(hits []Hit) map[string]any {
	lists := make([]string, len(hits))
	entries := make([]string, len(hits))
	kinds := make([]string, len(hits))
	var comments []string
	mark := tlp.Clear
	viaHost := true
	for i, h := range hits {
		lists[i], entries[i], kinds[i] = h.List, h.Entry, string(h.Kind)
		if h.Comment != "" {
			comments = append(comments, h.Comment)
		}
		mark = max(mark, h.TLP)
		viaHost = viaHost && h.ViaHost
	}
	d := map[string]any{"lists": lists, "entries": entries, "kinds": kinds, "tlp": mark.String()}
	if comments != nil {
		d["comments"] = comments
	}
	if viaHost {
		d["via_host"] = true
	}
	return d
}

// Labels returns the distinct list labels of hits, for Finding.Tags.
func Labels(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		if !slices.Contains(out, h.List) {
			out = append(out, h.List)
		}
	}
	return out
}
