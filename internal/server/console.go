package server

// What the analyst console (internal/console) needs of the server: the
// tokens for its sign-in, the tokens' rate limits for its pages, a place
// on the server's mux, and what the metrics know of each provider's health.

import (
	"net/http"

	dto "github.com/prometheus/client_model/go"
)

// Identify returns the name and scopes of the token secret belongs to, in
// constant time. With no tokens and InsecureNoAuth, every secret is the
// token "anonymous" with every scope, as every API request is let in.
func (s *Server) Identify(secret string) (name string, scopes []string, ok bool) {
	if len(s.tokens) == 0 && s.o.InsecureNoAuth {
		for _, sc := range AllScopes {
			scopes = append(scopes, string(sc))
		}
		return "anonymous", scopes, true
	}
	if secret == "" {
		return "", nil, false
	}
	t, ok := s.tokens.find(secret)
	if !ok {
		return "", nil, false
	}
	for _, sc := range t.Scopes {
		scopes = append(scopes, string(sc))
	}
	return t.Name, scopes, true
}

// Mount serves h under pattern (the console at /ui/), behind the server's
// request id, recovery and access log. Call it before Serve.
func (s *Server) Mount(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ProviderHealth is what this process's metrics say of one provider.
type ProviderHealth struct {
	Breaker     string // closed, half-open or open
	Errors      int64  // look-ups that ended in error
	RateLimited int64  // 429 answers and quota refusals
}

// ProviderHealth reads breaker states, errors and 429s by provider from the
// metrics.
func (m *Metrics) ProviderHealth() map[string]ProviderHealth {
	out := map[string]ProviderHealth{}
	fams, err := m.reg.Gather()
	if err != nil {
		return out
	}
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			p := label(mt, "provider")
			if p == "" {
				continue
			}
			h := out[p]
			switch f.GetName() {
			case "iocane_provider_breaker_state":
				h.Breaker = [...]string{"closed", "half-open", "open"}[min(2, max(0, int(mt.GetGauge().GetValue())))]
			case "iocane_provider_rate_limited_total":
				h.RateLimited += int64(mt.GetCounter().GetValue())
			case "iocane_provider_lookups_total":
				if label(mt, "status") == "error" {
					h.Errors += int64(mt.GetCounter().GetValue())
				}
			default:
				continue
			}
			out[p] = h
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
