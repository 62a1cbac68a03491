package score

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
)

// Scoring modes.
const (
	ModeWeighted = "weighted"
	ModeSeed     = "seed"
)

// minStrongWeight is the reliability weight a source needs (grade C or
// better) for one strong signal of its own to settle the verdict.
const minStrongWeight = 0.6

// Policy configures scoring. It is read from the "scoring" section of the
// YAML config; zero fields take their defaults (see DefaultPolicy).
type Policy struct {
	// Mode is "weighted" (default) or "seed", the original formula.
	Mode string `yaml:"mode" koanf:"mode" json:"mode"`
	// Malicious is the lowest score with a malicious verdict. Default 70.
	Malicious int `yaml:"malicious" koanf:"malicious" json:"malicious"`
	// Suspicious is the lowest score with a suspicious verdict. Default 30.
	Suspicious int `yaml:"suspicious" koanf:"suspicious" json:"suspicious"`
	// Benign is the benign evidence (0–100, see the package doc) needed for a
	// benign verdict. Default 50.
	Benign int `yaml:"benign" koanf:"benign" json:"benign"`
	// MinConfidence is the confidence below which the verdict is unknown.
	// Default 20 (0 means the default; 1 all but turns the floor off).
	MinConfidence int `yaml:"min_confidence" koanf:"min_confidence" json:"min_confidence"`
	// Strong is the signal at which one source of grade C or better is
	// conclusive on its own. Default 0.9.
	Strong float64 `yaml:"strong" koanf:"strong" json:"strong"`
	// Reliability overrides a provider's reliability grade by name, e.g.
	// {"otx": "C"}. Empty by default.
	Reliability map[string]provider.Reliability `yaml:"reliability" koanf:"reliability" json:"reliability,omitempty"`
}

// DefaultPolicy returns the default weighted policy.
func DefaultPolicy() Policy {
	return Policy{Mode: ModeWeighted, Malicious: 70, Suspicious: 30, Benign: 50, MinConfidence: 20, Strong: 0.9}
}

// WithDefaults fills zero fields from DefaultPolicy, as scoring applies
// them; code that reads the thresholds outside the scorer uses it too.
func (p Policy) WithDefaults() Policy {
	d := DefaultPolicy()
	if p.Mode == "" {
		p.Mode = d.Mode
	}
	if p.Malicious == 0 {
		p.Malicious = d.Malicious
	}
	if p.Suspicious == 0 {
		p.Suspicious = d.Suspicious
	}
	if p.Benign == 0 {
		p.Benign = d.Benign
	}
	if p.MinConfidence == 0 {
		p.MinConfidence = d.MinConfidence
	}
	if p.Strong == 0 {
		p.Strong = d.Strong
	}
	return p
}

// Validate reports a policy that cannot be applied.
func (p Policy) Validate() error {
	p = p.WithDefaults()
	switch {
	case p.Mode != ModeWeighted && p.Mode != ModeSeed:
		return fmt.Errorf("score: unknown mode %q (want weighted or seed)", p.Mode)
	case p.Suspicious < 1 || p.Suspicious > p.Malicious || p.Malicious > 100:
		return fmt.Errorf("score: thresholds must satisfy 1 <= suspicious (%d) <= malicious (%d) <= 100", p.Suspicious, p.Malicious)
	case p.Benign < 1 || p.Benign > 100:
		return fmt.Errorf("score: benign threshold %d out of 1-100", p.Benign)
	case p.MinConfidence < 0 || p.MinConfidence > 100:
		return fmt.Errorf("score: min_confidence %d out of 0-100", p.MinConfidence)
	case p.Strong <= 0 || p.Strong > 1:
		return fmt.Errorf("score: strong %v out of (0,1]", p.Strong)
	}
	return nil
}

// Evidence is what one source said about the IOC.
type Evidence struct {
	Provider string
	Status   provider.Status
	// Reason says why a source was skipped or failed ("no API key").
	Reason string
	// Malicious and Benign are the source's signals in [0,1].
	Malicious, Benign float64
	// Reliability is the source's grade; empty counts as "C/D" (0.5).
	Reliability provider.Reliability
	// Summary is the source's one-line fact, used in reasons.
	Summary string
	// Data holds the source's key fields; the seed mode reads counts from it.
	Data map[string]any
	// Local marks the user's own sources (provider.Spec.Local): their lists
	// are the user's decision, which context never lowers.
	Local bool
	// Discount is set for a context source (provider.Spec.Context): the
	// share in [0,1) by which its ok answer lowers the malicious signals of
	// the other, third-party sources (known infrastructure: a CDN edge, a
	// public resolver). A context source is never evidence itself.
	Discount float64
	// Context marks a context source (provider.Spec.Context).
	Context bool
}

// Outcome is the scored verdict for one IOC.
type Outcome struct {
	Score      int
	Confidence int
	Verdict    result.Verdict
	Reasons    []string
}

// Apply copies the outcome into r, including its DBot score.
func (o Outcome) Apply(r *result.Result) {
	r.Score, r.Confidence, r.Verdict = o.Score, o.Confidence, o.Verdict
	r.Reasons = o.Reasons
	r.DBotScore = result.DBotScore(o.Verdict)
}

// FromSources builds evidence from a Result's sources. reliability gives each
// provider's grade (typically from its provider.Spec); nil means ungraded.
func FromSources(sources []result.Source, reliability func(name string) provider.Reliability) []Evidence {
	ev := make([]Evidence, 0, len(sources))
	for _, s := range sources {
		e := Evidence{Provider: s.Provider, Status: provider.Status(s.Status), Reason: s.Reason,
			Malicious: s.Malicious, Benign: s.Benign, Summary: s.Summary, Data: s.Data}
		if reliability != nil {
			e.Reliability = reliability(s.Provider)
		}
		if spec, ok := provider.Get(s.Provider); ok {
			e.Local, e.Context = spec.Local, spec.Context
			if spec.Context {
				e.Discount = number(s.Data[provider.DataDiscount])
			}
		}
		ev = append(ev, e)
	}
	return ev
}

// SpecReliability returns the registered provider's reliability grade, for
// FromSources.
func SpecReliability(name string) provider.Reliability {
	s, _ := provider.Get(name)
	return s.Reliability
}

// STIXConfidence maps a confidence to the STIX 2.1 confidence property
// (0–100, the "0–100" scale of STIX appendix A, so the value is kept as is).
func STIXConfidence(confidence int) int { return clampInt(confidence, 0, 100) }

// CortexLevel maps a verdict to a Cortex taxonomy level (result.CortexLevel).
func CortexLevel(v result.Verdict) string { return result.CortexLevel(v) }

// item is one answering source with its derived numbers.
type item struct {
	Evidence
	w, d, m, b float64
	// lowered is set on a context item whose discount lowered another
	// source's malicious signal.
	lowered bool
}

// contribution is how far the item moved the score: its discounted
// signal, or for a context source the share it took off the others.
func (it item) contribution() float64 {
	if it.Context {
		if !it.lowered {
			return 0
		}
		return it.discount()
	}
	return it.d * math.Max(it.m, it.b)
}

// maxDiscount keeps some of the evidence even on the most shared
// infrastructure.
const maxDiscount = 0.9

// discount is a context item's share, 0 unless it answered ok.
func (it item) discount() float64 {
	if !it.Context || it.Status != provider.StatusOK {
		return 0
	}
	return math.Min(clamp01(it.Discount), maxDiscount)
}

// Score scores the evidence under policy p.
func Score(p Policy, ev []Evidence) Outcome {
	p = p.WithDefaults()
	var answered []item
	for _, e := range ev {
		if !e.Status.Answered() {
			continue
		}
		if r, ok := p.Reliability[e.Provider]; ok {
			e.Reliability = r
		}
		it := item{Evidence: e, w: e.Reliability.Weight()}
		it.d = 0.4 + 0.6*it.w
		if e.Status == provider.StatusOK && !e.Context {
			it.m, it.b = clamp01(e.Malicious), clamp01(e.Benign)
		}
		answered = append(answered, it)
	}
	if len(answered) == 0 {
		return Outcome{Verdict: result.Unknown, Reasons: reasons(answered, ev, "iocane: no source answered, nothing to judge")}
	}
	if p.Mode == ModeSeed {
		for i := range answered {
			answered[i].Discount = 0 // the seed formula knows no context
		}
	} else {
		lowerByContext(answered)
	}

	mal, ben := noisyOR(answered, func(it item) float64 { return it.d * it.m }),
		noisyOR(answered, func(it item) float64 { return it.d * it.b })
	conf := confidence(answered, mal, ben)

	if p.Mode == ModeSeed {
		return seed(p, answered, ev, conf)
	}

	s := mal * (1 - ben*(1-mal))
	strongMal, strongBen := "", ""
	var strongMalV float64
	for _, it := range answered {
		if it.w < minStrongWeight {
			continue
		}
		if v := math.Max(it.d*it.m, float64(p.Malicious)/100); it.m >= p.Strong && v > strongMalV {
			strongMal, strongMalV = it.Provider, v
		}
		if it.b >= p.Strong && strongBen == "" {
			strongBen = it.Provider
		}
	}
	if strongMal != "" && strongBen != "" && strongMal != strongBen {
		score := clampInt(pct(math.Max(s, strongMalV)), p.Suspicious, p.Malicious-1)
		note := fmt.Sprintf("iocane: conflict: %s says malicious, %s says benign; marked suspicious for review", strongMal, strongBen)
		return Outcome{Score: score, Confidence: conf, Verdict: result.Suspicious, Reasons: reasons(answered, ev, note)}
	}
	score := pct(math.Max(s, strongMalV))

	v := result.Unknown
	note := ""
	switch {
	case score >= p.Malicious:
		v = result.Malicious
	case score >= p.Suspicious:
		v = result.Suspicious
	case pct(ben) >= p.Benign:
		v = result.Benign
	default:
		note = "iocane: no source gives enough evidence either way"
	}
	if v != result.Unknown && conf < p.MinConfidence {
		v, note = result.Unknown, fmt.Sprintf("iocane: confidence %d is below %d, too little evidence for a verdict", conf, p.MinConfidence)
	}
	return Outcome{Score: score, Confidence: conf, Verdict: v, Reasons: reasons(answered, ev, note)}
}

// lowerByContext applies the strongest context discount to the malicious
// signal of every third-party source: known infrastructure explains
// address- and host-level reports, and the user's own lists stand.
func lowerByContext(items []item) {
	share, by := 0.0, -1
	for i, it := range items {
		if d := it.discount(); d > share {
			share, by = d, i
		}
	}
	if by < 0 {
		return
	}
	for i := range items {
		if !items[i].Local && !items[i].Context && items[i].m > 0 {
			items[i].m *= 1 - share
			items[by].lowered = true
		}
	}
}

func noisyOR(items []item, f func(item) float64) float64 {
	rest := 1.0
	for _, it := range items {
		rest *= 1 - clamp01(f(it))
	}
	return 1 - rest
}

func confidence(items []item, mal, ben float64) int {
	rest := 1.0
	for _, it := range items {
		if it.Context {
			continue // context is not evidence, and says nothing of how much there is
		}
		q := 0.1
		if it.Status == provider.StatusOK {
			q = 0.2 + 0.8*math.Max(it.m, it.b)
		}
		rest *= 1 - it.w*q
	}
	return pct((1 - rest) * (1 - 0.5*math.Min(mal, ben)))
}

// reasons lists, after an optional leading note, what moved the score,
// strongest first: each source whose signal counted, and each context
// source that lowered the others. A source that answered with no signal
// (not_found, or ok with nothing either way) moved nothing; it stays in the
// result's sources. Last comes one line naming the sources that were not
// counted: failed, deferred (rate limited) or skipped.
func reasons(answered []item, ev []Evidence, note string) []string {
	out := make([]string, 0, len(answered)+2)
	if note != "" {
		out = append(out, note)
	}
	var moved []item
	for _, it := range answered {
		if it.contribution() > 0 {
			moved = append(moved, it)
		}
	}
	slices.SortStableFunc(moved, func(a, b item) int {
		ca, cb := a.contribution(), b.contribution()
		switch {
		case ca > cb:
			return -1
		case ca < cb:
			return 1
		}
		return strings.Compare(a.Provider, b.Provider)
	})
	for _, it := range moved {
		line := it.Provider + ": " + fact(it.Evidence)
		if it.Context {
			line += fmt.Sprintf(" (lowers the other sources' malicious signals by %.0f%%)", 100*it.discount())
		}
		out = append(out, line)
	}
	if line := notCounted(ev); line != "" {
		out = append(out, line)
	}
	return out
}

// notCounted is the one line naming the sources that did not answer,
// grouped by what happened and why, in the order they first appear:
// "not counted: shodan failed (timeout); misp, otx skipped (no API key)".
func notCounted(ev []Evidence) string {
	type group struct {
		what  string
		names []string
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, e := range ev {
		if e.Status.Answered() {
			continue
		}
		what := "no answer"
		switch e.Status {
		case provider.StatusError:
			what = "failed"
		case provider.StatusRateLimited:
			what = "deferred"
		case provider.StatusSkipped:
			what = "skipped"
		}
		if e.Reason != "" {
			what += " (" + e.Reason + ")"
		}
		g := byKey[what]
		if g == nil {
			g = &group{what: what}
			byKey[what] = g
			groups = append(groups, g)
		}
		if !slices.Contains(g.names, e.Provider) {
			g.names = append(g.names, e.Provider)
		}
	}
	if len(groups) == 0 {
		return ""
	}
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = strings.Join(g.names, ", ") + " " + g.what
	}
	return "not counted: " + strings.Join(parts, "; ")
}

// fact is the evidence's fact in words.
func fact(e Evidence) string {
	if e.Summary != "" {
		return e.Summary
	}
	if e.Malicious >= e.Benign {
		return fmt.Sprintf("malicious signal %.2f", e.Malicious)
	}
	return fmt.Sprintf("benign signal %.2f", e.Benign)
}

func pct(x float64) int { return clampInt(int(math.Round(100*x)), 0, 100) }

func clamp01(x float64) float64 {
	if math.IsNaN(x) || x < 0 {
		return 0
	}
	return math.Min(x, 1)
}

func clampInt(x, lo, hi int) int { return max(lo, min(x, hi)) }
