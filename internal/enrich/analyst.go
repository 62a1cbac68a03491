package enrich

import (
	"slices"
	"strings"

	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/result"
)

// analystSource is an analyst verdict as the result's first source: local,
// top precedence, its signal the verdict's.
func analystSource(v history.Verdict) result.Source {
	s := result.Source{Provider: history.AnalystSource, Status: "ok", Summary: v.Explain(),
		Data: map[string]any{"verdict": string(v.Verdict), "by": v.By, "reason": v.Reason, "set_at": v.SetAt}}
	if !v.Expires.IsZero() {
		s.Data["expires"] = v.Expires
	}
	switch v.Verdict {
	case result.Malicious:
		s.Malicious = 1
	case result.Suspicious:
		s.Malicious = 0.5
	case result.Benign:
		s.Benign = 1
	}
	return s
}

// settle makes the analyst's verdict the result's: it outranks every
// source, so the verdict, its score and full confidence are the analyst's,
// and the first reason says who decided, until when and why. The other
// reasons stay, for the record.
func (e *Engine) settle(r *result.Result, v history.Verdict) {
	p := e.opts.Policy.WithDefaults()
	r.Verdict, r.Score, r.Confidence = v.Verdict, v.Score(p.Suspicious, p.Malicious), 100
	r.DBotScore = result.DBotScore(v.Verdict)
	// The scorer named the analyst source among the evidence too; its
	// reason goes first, once.
	r.Reasons = append([]string{v.Explain()}, slices.DeleteFunc(r.Reasons, func(s string) bool {
		return strings.HasPrefix(s, history.AnalystSource+": ")
	})...)
}
