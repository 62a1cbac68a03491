package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/output"
	"github.com/iocane/iocane/internal/result"
)

type jobsData struct {
	Jobs  []jobs.Job
	Pager pager
}

// pager is a listing's place: page N of M, with links kept on the
// listing's other parameters.
type pager struct {
	Page, Pages, Total, From, To int
	Prev, Next                   string
}

func newPager(base url.Values, page, size, total int) pager {
	p := pager{Page: page, Total: total, Pages: max(1, (total+size-1)/size)}
	p.From = min(total, (page-1)*size+1)
	p.To = min(total, page*size)
	link := func(n int) string {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(n))
		return "?" + q.Encode()
	}
	if page > 1 {
		p.Prev = link(page - 1)
	}
	if page < p.Pages {
		p.Next = link(page + 1)
	}
	return p
}

// pageParam reads ?page=, 1 when absent or bad.
func pageParam(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		return 1
	}
	return min(n, 1_000_000)
}

func (c *Console) handleJobs(w http.ResponseWriter, r *http.Request, s *session) {
	page := pageParam(r)
	list, total, err := c.o.Jobs.List(r.Context(), (page-1)*c.o.PageSize, c.o.PageSize)
	if err != nil {
		c.unavailable(w, r, "the jobs", err)
		return
	}
	c.render(w, r, http.StatusOK, "jobs", view{Title: "Jobs", Nav: "jobs", Session: s,
		Data: jobsData{Jobs: list, Pager: newPager(nil, page, c.o.PageSize, total)}})
}

// jobData is a job page and its live part.
type jobData struct {
	Job     jobs.Job
	Rows    []result.Result
	Pager   pager
	Filter  jobFilter
	Formats []string
	Live    bool   // the job is still running: the rows refresh
	Query   string // the page's query, for the refresh and the exports
	Status  string // what the live region announces
}

type jobFilter struct {
	Verdict, Type, Sort string
	Verdicts, Types     []string
}

var iocTypes = []ioc.Type{ioc.IPv4, ioc.IPv6, ioc.Domain, ioc.URL, ioc.Email, ioc.MD5, ioc.SHA1, ioc.SHA256, ioc.SHA512, ioc.CVE, ioc.ASN, ioc.BTC}

var verdicts = []string{string(result.Malicious), string(result.Suspicious), string(result.Unknown), string(result.Benign)}

// jobPage reads the job and the page of rows the query asks for.
func (c *Console) jobPage(r *http.Request) (jobData, error) {
	id := r.PathValue("id")
	q := r.URL.Query()
	f := jobFilter{Verdict: q.Get("verdict"), Type: q.Get("type"), Sort: q.Get("sort"), Verdicts: verdicts}
	for _, t := range iocTypes {
		f.Types = append(f.Types, string(t))
	}
	if !result.Verdict(f.Verdict).Valid() {
		f.Verdict = ""
	}
	if !ioc.Type(f.Type).Valid() {
		f.Type = ""
	}
	if f.Sort != "ioc" {
		f.Sort = "worst"
	}
	page := pageParam(r)
	j, rows, total, err := c.o.Jobs.ResultsPage(r.Context(), id, jobs.ResultQuery{Verdict: result.Verdict(f.Verdict), Type: f.Type,
		Worst: f.Sort == "worst", Offset: (page - 1) * c.o.PageSize, Limit: c.o.PageSize})
	if err != nil {
		return jobData{}, err
	}
	base := url.Values{}
	for k, v := range map[string]string{"verdict": f.Verdict, "type": f.Type, "sort": f.Sort} {
		if v != "" {
			base.Set(k, v)
		}
	}
	d := jobData{Job: j, Rows: rows, Filter: f, Formats: output.Formats(), Live: !j.State.Terminal(),
		Pager: newPager(base, page, c.o.PageSize, total)}
	base.Set("page", strconv.Itoa(page))
	d.Query = base.Encode()
	d.Status = jobStatus(j)
	return d, nil
}

// jobStatus is the sentence the live region reads out.
func jobStatus(j jobs.Job) string {
	c := j.Counts
	s := fmt.Sprintf("Job %s: %d of %d IOCs done", j.State, c.Done, c.IOCs)
	if c.Malicious > 0 || c.Suspicious > 0 {
		s += fmt.Sprintf(", %d malicious, %d suspicious", c.Malicious, c.Suspicious)
	}
	if c.Deferred > 0 {
		s += fmt.Sprintf(", %d look-ups waiting for their provider's budget", c.Deferred)
	}
	if j.Error != "" {
		s += ": " + j.Error
	}
	return s + "."
}

func (c *Console) handleJob(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := c.jobPage(r)
	if err != nil {
		c.jobError(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "job", view{Title: "Job " + shortID(d.Job.ID), Nav: "jobs", Session: s, Data: d})
}

// handleJobRows is the live part of a job page, which htmx swaps in while
// the job runs; it stops asking once the job has ended.
func (c *Console) handleJobRows(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := c.jobPage(r)
	if err != nil {
		c.jobError(w, r, err)
		return
	}
	c.fragment(w, r, "job", "live", d)
}

func (c *Console) jobError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, jobs.ErrNotFound) {
		c.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no job %q. It may have been pruned; see the jobs list.", r.PathValue("id")))
		return
	}
	c.unavailable(w, r, "the job", err)
}

func (c *Console) unavailable(w http.ResponseWriter, r *http.Request, what string, err error) {
	c.o.Logger.Error("console: read failed", "what", what, "error", err)
	w.Header().Set("Retry-After", "5")
	c.fail(w, r, http.StatusServiceUnavailable, "The store did not answer, so "+what+" could not be read. Reload in a few seconds.")
}

// handleExport streams the whole job in one of the output formats.
func (c *Console) handleExport(w http.ResponseWriter, r *http.Request, s *session) {
	id, format := r.PathValue("id"), r.URL.Query().Get("format")
	j, err := c.o.Jobs.Get(r.Context(), id)
	if err != nil {
		c.jobError(w, r, err)
		return
	}
	var buf strings.Builder
	ow, err := output.New(format, &buf, output.Options{Now: c.o.Now})
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, fmt.Sprintf("Unknown format %q: use one of %s.", format, strings.Join(output.Formats(), ", ")))
		return
	}
	err = c.o.Jobs.Results(r.Context(), j.ID, func(res result.Result) error { return ow.Write(output.Normalize(res)) })
	if err == nil {
		err = ow.Close()
	}
	if err != nil {
		c.unavailable(w, r, "the results", err)
		return
	}
	w.Header().Set("Content-Type", exportType(format))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="iocane-%s.%s"`, shortID(j.ID), exportExt(format)))
	w.Write([]byte(buf.String()))
}

func exportType(format string) string {
	switch format {
	case "csv":
		return "text/csv; charset=utf-8"
	case "table":
		return "text/plain; charset=utf-8"
	case "jsonl":
		return "application/x-ndjson"
	}
	return "application/json"
}

func exportExt(format string) string {
	switch format {
	case "csv", "jsonl":
		return format
	case "table":
		return "txt"
	}
	return format + ".json"
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[len(id)-8:]
	}
	return id
}
