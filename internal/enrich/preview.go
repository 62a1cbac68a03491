package enrich

import "context"

// Step is one source's part of a preview of enriching an IOC: what would
// happen without anything being sent.
type Step struct {
	Provider string `json:"provider"`
	// Local sources never leave the machine.
	Local bool `json:"local"`
	// Ask is true when the provider would be asked, spending one request
	// of its quota.
	Ask bool `json:"ask"`
	// Cached is true when the cache would answer instead.
	Cached bool `json:"cached"`
	// Reason says why the provider would not be asked (internal, TLP,
	// allow-listed, no key, ...).
	Reason string `json:"reason,omitempty"`
}

// Preview says which sources enriching it would ask and which not, and
// why, without asking any external provider: only the local sources and
// the cache are read. The console shows it before a run.
func (e *Engine) Preview(ctx context.Context, it Item) []Step {
	plan, _, _, _ := e.plan(ctx, it)
	steps := make([]Step, 0, len(plan))
	for _, p := range plan {
		st := Step{Provider: p.name, Reason: p.skip}
		switch {
		case p.src != nil && p.src.Spec.Local:
			st.Local = true
		case p.skip != "":
		default:
			_, st.Cached = e.cached(ctx, p.name, it.IOC)
			st.Ask = !st.Cached
		}
		steps = append(steps, st)
	}
	return steps
}
