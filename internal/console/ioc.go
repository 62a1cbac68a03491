package console

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
)

// historyLimit is how many past enrichments and sightings the IOC page lists.
const historyLimit = 50

type iocData struct {
	IOC     ioc.IOC
	Result  *result.Result
	History *history.Report
	Jobs    []string // jobs the IOC appeared in, newest first
	Error   string
}

// handleIOC shows one IOC: its last result, every source's answer, and
// its history (?type=&value=).
func (c *Console) handleIOC(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	t := ioc.Type(q.Get("type"))
	if !t.Valid() {
		c.fail(w, r, http.StatusBadRequest, fmt.Sprintf("Unknown IOC type %q.", q.Get("type")))
		return
	}
	v, err := ioc.Normalize(t, q.Get("value"))
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, fmt.Sprintf("That is not a valid %s: %v.", t, err))
		return
	}
	d := iocData{IOC: ioc.IOC{Type: t, Value: v}}
	if c.o.Latest != nil {
		res, found, err := c.o.Latest(r.Context(), d.IOC)
		if err != nil {
			c.unavailable(w, r, "the IOC", err)
			return
		}
		if found {
			d.Result = &res
		}
	}
	if c.o.History != nil {
		rep, err := c.o.History(r.Context(), d.IOC, historyLimit)
		if err != nil {
			c.unavailable(w, r, "the IOC's history", err)
			return
		}
		d.History = &rep
		seen := map[string]bool{}
		for _, e := range rep.History {
			if e.Job != "" && !seen[e.Job] {
				seen[e.Job] = true
				d.Jobs = append(d.Jobs, e.Job)
			}
		}
	}
	title := strings.ToUpper(string(t)) + " " + defang(t, v)
	c.render(w, r, http.StatusOK, "ioc", view{Title: title, Nav: "jobs", Session: s, Data: d})
}
