package score

import (
	"slices"

	"github.com/iocane/iocane/internal/provider"
)

// Settled reports whether the evidence already decides the verdict, so
// that asking a costlier source could not move it (quota-aware tiering,
// internal/enrich): a conclusive malicious source, or conclusive benign
// evidence, as Score defines conclusive: a signal of at least p.Strong
// from a source of grade C or better, after known infrastructure has
// lowered the malicious signals. It returns the deciding sources, in the
// evidence's order. The seed mode has no notion of conclusive: nothing is
// ever settled in it.
//
// Settling on benign evidence is a trade: a scarce source that would have
// said malicious is not asked, where Score would have marked the conflict
// suspicious. The user's allow-list and an analyst's verdict settle before
// any of this; a third-party benign signal of 0.9 or more (OTX's
// allow-list, GreyNoise RIOT) is the other way in.
func Settled(p Policy, ev []Evidence) (bool, []string) {
	p = p.WithDefaults()
	if p.Mode == ModeSeed {
		return false, nil
	}
	var items []item
	for _, e := range ev {
		if e.Status != provider.StatusOK {
			continue
		}
		if r, ok := p.Reliability[e.Provider]; ok {
			e.Reliability = r
		}
		it := item{Evidence: e, w: e.Reliability.Weight()}
		if !e.Context {
			it.m, it.b = clamp01(e.Malicious), clamp01(e.Benign)
		}
		items = append(items, it)
	}
	lowerByContext(items)
	var by []string
	for _, it := range items {
		if it.Context || it.w < minStrongWeight {
			continue
		}
		if (it.m >= p.Strong || it.b >= p.Strong) && !slices.Contains(by, it.Provider) {
			by = append(by, it.Provider)
		}
	}
	return len(by) > 0, by
}
