package console

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/tlp"
)

// tlpChoices are the markings the enrich form offers.
var tlpChoices = []string{"clear", "green", "amber", "amber+strict", "red"}

type enrichData struct {
	TLPs  []string
	TLP   string
	Text  string
	Error string
}

func (c *Console) handleEnrichForm(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, http.StatusOK, "enrich", view{Title: "Enrich", Nav: "enrich", Session: s,
		Data: enrichData{TLPs: tlpChoices, TLP: c.o.DefaultTLP.String()}})
}

// previewData is the preview page: what a run would ask, before it does.
type previewData struct {
	Draft    string
	Filename string
	TLPs     []string
	TLP      string
	IOCs     []previewIOC
	Total    int // IOCs found
	Shown    int // listed one by one (at most MaxPreview)
	Spend    []spend
	Error    string // the input's error after the IOCs found before it
}

type previewIOC struct {
	IOC   ioc.IOC
	Ask   []enrich.Step
	Skip  []skipped
	Local []string
}

// skipped are the providers an IOC would not reach for one reason.
type skipped struct {
	Reason    string
	Providers []string
}

// spend is what a run would cost one provider.
type spend struct {
	Provider string
	Calls    int
	Cached   int
	Left     []string // "480 of 500 left today"
}

// handleEnrich previews posted text or a file (action=preview, the
// default), or runs a previewed draft or the posted input as a job
// (action=run) and redirects to its page.
func (c *Console) handleEnrich(w http.ResponseWriter, r *http.Request, s *session) {
	r.Body = http.MaxBytesReader(w, r.Body, c.o.MaxBody+1<<20)
	d, level, err := c.readInput(r, s)
	if err != nil {
		status := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
		}
		c.render(w, r, status, "enrich", view{Title: "Enrich", Nav: "enrich", Session: s,
			Data: enrichData{TLPs: tlpChoices, TLP: level.String(), Error: err.Error()}})
		return
	}
	if r.FormValue("action") == "run" {
		c.run(w, r, s, d, level)
		return
	}
	c.preview(w, r, s, d, level)
}

// readInput reads the form: a draft id, an uploaded file or pasted text,
// and the TLP.
func (c *Console) readInput(r *http.Request, s *session) (draft, tlp.Level, error) {
	level := c.o.DefaultTLP
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return draft{}, level, fmt.Errorf("The form could not be read (%v). Inputs up to %d MiB are taken.", err, c.o.MaxBody>>20)
	}
	if v := r.FormValue("tlp"); v != "" {
		l, ok := tlp.Parse(v)
		if !ok {
			return draft{}, level, fmt.Errorf("Unknown TLP %q: pick one of %s.", v, strings.Join(tlpChoices, ", "))
		}
		level = l
	}
	if id := r.FormValue("draft"); id != "" {
		d, ok := c.sessions.draft(s, id)
		if !ok {
			return draft{}, level, errors.New("That preview has expired. Paste the input again.")
		}
		return d, level, nil
	}
	if f, h, err := r.FormFile("file"); err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, c.o.MaxBody+1))
		if err != nil {
			return draft{}, level, fmt.Errorf("The file could not be read: %v.", err)
		}
		if int64(len(b)) > c.o.MaxBody {
			return draft{}, level, fmt.Errorf("The file is over %d MiB. Split it, or send it to POST /v1/jobs.", c.o.MaxBody>>20)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			return draft{input: b, filename: h.Filename, format: string(input.Detect(b, h.Filename))}, level, nil
		}
	}
	text := r.FormValue("text")
	if strings.TrimSpace(text) == "" {
		return draft{}, level, errors.New("Paste some text or choose a file: there is nothing to enrich.")
	}
	if int64(len(text)) > c.o.MaxBody {
		return draft{}, level, fmt.Errorf("The text is over %d MiB. Send it to POST /v1/jobs instead.", c.o.MaxBody>>20)
	}
	return draft{input: []byte(text), format: string(input.Detect([]byte(text), ""))}, level, nil
}

func (c *Console) preview(w http.ResponseWriter, r *http.Request, s *session, d draft, level tlp.Level) {
	pd := previewData{Filename: d.filename, TLPs: tlpChoices, TLP: level.String()}
	calls := map[string]*spend{}
	var order []string
	in := &enrich.Intake{TLP: level, Input: input.Options{Format: input.Format(d.format)}}
	err := in.Read(r.Context(), bytes.NewReader(d.input), "input", func(it enrich.Item) error {
		pd.Total++
		steps := c.o.Preview(r.Context(), it)
		var p previewIOC
		p.IOC = it.IOC
		for _, st := range steps {
			switch {
			case st.Local:
				p.Local = append(p.Local, st.Provider)
			case st.Ask || st.Cached:
				p.Ask = append(p.Ask, st)
				sp := calls[st.Provider]
				if sp == nil {
					sp = &spend{Provider: st.Provider}
					calls[st.Provider] = sp
					order = append(order, st.Provider)
				}
				if st.Cached {
					sp.Cached++
				} else {
					sp.Calls++
				}
			default:
				i := slices.IndexFunc(p.Skip, func(s skipped) bool { return s.Reason == st.Reason })
				if i < 0 {
					p.Skip, i = append(p.Skip, skipped{Reason: st.Reason}), len(p.Skip)
				}
				p.Skip[i].Providers = append(p.Skip[i].Providers, st.Provider)
			}
		}
		if len(pd.IOCs) < MaxPreview {
			pd.IOCs = append(pd.IOCs, p)
		}
		return r.Context().Err()
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		pd.Error = err.Error()
	}
	pd.Shown = len(pd.IOCs)
	left := c.quotaLeft(r.Context())
	for _, name := range order {
		sp := calls[name]
		sp.Left = left[name]
		pd.Spend = append(pd.Spend, *sp)
	}
	if pd.Total > 0 {
		pd.Draft = c.sessions.keep(s, d)
	}
	c.render(w, r, http.StatusOK, "preview", view{Title: "Preview", Nav: "enrich", Session: s, Data: pd})
}

// quotaLeft describes each provider's quota windows.
func (c *Console) quotaLeft(ctx context.Context) map[string][]string {
	out := map[string][]string{}
	if c.o.Providers == nil {
		return out
	}
	states, err := c.o.Providers(ctx)
	if err != nil {
		return out
	}
	for _, st := range states {
		for _, q := range st.Quota {
			out[st.Name] = append(out[st.Name], fmt.Sprintf("%d of %d left this %s", q.Remaining, q.Limit, periodWord(q.Period)))
		}
	}
	return out
}

// run stores the input as a job and sends the browser to its page.
func (c *Console) run(w http.ResponseWriter, r *http.Request, s *session, d draft, level tlp.Level) {
	spec := jobs.Spec{Source: "console", InputFormat: cmp.Or(d.format, string(input.Auto)), Input: d.input, TLP: level.String()}
	j, _, err := c.o.Jobs.Submit(r.Context(), spec)
	if errors.Is(err, jobs.ErrInvalid) {
		c.fail(w, r, http.StatusBadRequest, "The job cannot run: "+err.Error())
		return
	}
	if err != nil {
		c.o.Logger.Error("console: job not stored", "token", s.who.Name, "error", err)
		w.Header().Set("Retry-After", "5")
		c.fail(w, r, http.StatusServiceUnavailable, "The job could not be stored, so it was not started. Try again in a few seconds.")
		return
	}
	c.o.Logger.Info("console: job submitted", "token", s.who.Name, "job", j.ID)
	http.Redirect(w, r, "/ui/jobs/"+j.ID, http.StatusSeeOther)
}

// periodWord reads a quota period ("h", "d", "mo") as a word.
func periodWord(p string) string {
	switch p {
	case "h":
		return "hour"
	case "d":
		return "day"
	case "mo":
		return "month"
	}
	return p
}
