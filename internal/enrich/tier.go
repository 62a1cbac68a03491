package enrich

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/score"
	"github.com/iocane/iocane/internal/settings"
	"github.com/knadh/koanf/v2"
)

// Tier is a provider's cost tier. With tiering on, an IOC's tiers are
// asked in order, and a tier only while the verdict is not settled
// (score.Settled): scarce quota is spent only where it can decide
// something.
type Tier int

// The tiers, cheapest first.
const (
	// TierLocal: your own lists, feeds, GeoIP and your own MISP.
	TierLocal Tier = iota
	// TierFree: free and unmetered services.
	TierFree
	// TierScarce: metered quota (a free VirusTotal key: 500 a day).
	TierScarce
)

var tierNames = []string{"local", "free", "scarce"}

func (t Tier) String() string { return tierNames[t] }

// ParseTier reads a tier name.
func ParseTier(s string) (Tier, error) {
	i := slices.Index(tierNames, strings.ToLower(strings.TrimSpace(s)))
	if i < 0 {
		return 0, fmt.Errorf("unknown tier %q (want local, free or scarce)", s)
	}
	return Tier(i), nil
}

// DefaultTiers places each built-in provider. AbuseIPDB is scarce: its
// free plan is metered (1,000 checks a day). A provider not listed (a
// declarative one) is scarce when it has a quota and free otherwise.
var DefaultTiers = map[string]Tier{
	"misp":          TierLocal,
	"urlhaus":       TierFree,
	"threatfox":     TierFree,
	"malwarebazaar": TierFree,
	"otx":           TierFree,
	"safebrowsing":  TierFree,
	"greynoise":     TierFree,
	"abuseipdb":     TierScarce,
	"virustotal":    TierScarce,
	"shodan":        TierScarce,
	"urlscan":       TierScarce,
	"passivetotal":  TierScarce,
}

// tier returns the tier of source s: the config's, else DefaultTiers',
// else by whether it has a quota.
func (e *Engine) tier(s *Source) Tier {
	if t, ok := e.opts.Tiers[s.Spec.Name]; ok {
		return t
	}
	if t, ok := DefaultTiers[s.Spec.Name]; ok {
		return t
	}
	if s.Quota != nil && len(s.Quota.Windows) > 0 {
		return TierScarce
	}
	return TierFree
}

// askByTier asks the planned look-ups tier by tier, cheapest first, and
// stops as soon as what is known settles the verdict: the rest are
// skipped with a reason naming the sources that settled it.
func (e *Engine) askByTier(ctx context.Context, it Item, plan, ask []*planned) {
	slices.SortStableFunc(ask, func(a, b *planned) int { return cmp.Compare(e.tier(a.src), e.tier(b.src)) })
	for len(ask) > 0 {
		t := e.tier(ask[0].src)
		n := slices.IndexFunc(ask, func(p *planned) bool { return e.tier(p.src) != t })
		if n < 0 {
			n = len(ask)
		}
		if settled, by := e.settled(plan); settled {
			for _, p := range ask {
				p.skip = "tiering: verdict settled by " + strings.Join(by, ", ")
			}
			return
		}
		e.ask(ctx, it, ask[:n])
		ask = ask[n:]
	}
}

// settled scores what the plan has so far: local answers, cached ones and
// the tiers already asked.
func (e *Engine) settled(plan []*planned) (bool, []string) {
	var sources []result.Source
	for _, p := range plan {
		if p.skip != "" || p.finding.Status == "" {
			continue
		}
		f := p.finding
		f.Provider = p.name
		sources = append(sources, sourceOf(f, p.cached))
	}
	return score.Settled(e.opts.Policy, score.FromSources(sources, e.reliability))
}

// TieringSection is the config section tiering is read from.
const TieringSection = "tiering"

// LoadTiering reads the tiering section of k: either `tiering: on|off`, or
// `tiering: {mode: on|off, tiers: {virustotal: scarce, ...}}`.
// IOCANE_TIERING (on|off) overrides the mode. The default is off.
func LoadTiering(k *koanf.Koanf, getenv func(string) string) (on bool, tiers map[string]Tier, err error) {
	tiers = map[string]Tier{}
	mode := ""
	switch v := k.Get(TieringSection).(type) {
	case nil:
	case map[string]any:
		if err := settings.Unknown(TieringSection+".", k.MapKeys(TieringSection), []string{"mode", "tiers"}); err != nil {
			return false, nil, settings.Wrap("config: ", err)
		}
		mode = k.String(TieringSection + ".mode")
		for _, name := range k.MapKeys(TieringSection + ".tiers") {
			if _, ok := provider.Get(name); !ok {
				return false, nil, fmt.Errorf("config: %s.tiers.%s: unknown provider %q", TieringSection, name, name)
			}
			t, err := ParseTier(k.String(TieringSection + ".tiers." + name))
			if err != nil {
				return false, nil, fmt.Errorf("config: %s.tiers.%s: %w", TieringSection, name, err)
			}
			tiers[name] = t
		}
	default:
		mode = fmt.Sprint(v)
	}
	if v := strings.TrimSpace(getenv("IOCANE_TIERING")); v != "" {
		mode = v
	}
	if mode == "" {
		return false, tiers, nil
	}
	on, err = ParseOnOff(mode)
	if err != nil {
		return false, nil, fmt.Errorf("config: tiering: %w", err)
	}
	return on, tiers, nil
}

// ParseOnOff reads on/off (or true/false).
func ParseOnOff(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%q: want on or off", s)
	}
	return b, nil
}
