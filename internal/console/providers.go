package console

import (
	"net/http"
	"time"

	"github.com/iocane/iocane/internal/provider"
)

type providersData struct {
	Rows []providerRow
}

type providerRow struct {
	provider.State
	Health  ProviderHealth
	Windows []quotaBar
}

// quotaBar is one quota window drawn as a meter.
type quotaBar struct {
	provider.QuotaWindow
	Period string // "day"
	Resets time.Time
	Low    bool // under a tenth left
}

func (c *Console) handleProviders(w http.ResponseWriter, r *http.Request, s *session) {
	if c.o.Providers == nil {
		c.fail(w, r, http.StatusNotFound, "This server does not report its providers.")
		return
	}
	states, err := c.o.Providers(r.Context())
	if err != nil {
		c.unavailable(w, r, "the providers' quotas", err)
		return
	}
	var health map[string]ProviderHealth
	if c.o.Health != nil {
		health = c.o.Health()
	}
	var d providersData
	for _, st := range states {
		row := providerRow{State: st, Health: health[st.Name]}
		if row.Health.Breaker == "" {
			row.Health.Breaker = "closed"
		}
		for _, q := range st.Quota {
			b := quotaBar{QuotaWindow: q, Period: periodWord(q.Period), Low: q.Limit > 0 && q.Remaining*10 < q.Limit}
			b.Resets, _ = time.Parse(time.RFC3339, q.ResetsAt)
			row.Windows = append(row.Windows, b)
		}
		d.Rows = append(d.Rows, row)
	}
	c.render(w, r, http.StatusOK, "providers", view{Title: "Providers", Nav: "providers", Session: s, Data: d})
}

func (c *Console) handleReport(w http.ResponseWriter, r *http.Request, s *session) {
	if c.o.Report == nil {
		c.fail(w, r, http.StatusNotFound, "This server does not build the weekly report.")
		return
	}
	c.render(w, r, http.StatusOK, "report", view{Title: "Weekly report", Nav: "report", Session: s})
}

// handleReportFrame is the report's own page, shown in a frame of the
// report page: it keeps its inline styles under a policy of its own that
// allows no script at all.
func (c *Console) handleReportFrame(w http.ResponseWriter, r *http.Request, s *session) {
	if c.o.Report == nil {
		c.fail(w, r, http.StatusNotFound, "This server does not build the weekly report.")
		return
	}
	rep, err := c.o.Report(r.Context())
	if err != nil {
		c.unavailable(w, r, "the report", err)
		return
	}
	w.Header().Set("Content-Security-Policy", reportCSP)
	w.Header().Set("X-Frame-Options", "SAMEORIGIN")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := writeReport(w, rep); err != nil {
		c.o.Logger.Error("console: report", "error", err)
	}
}
