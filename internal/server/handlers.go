package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/iocane/iocane/internal/history"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/input"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/output"
	_ "github.com/iocane/iocane/internal/output/json" // the json and jsonl writers
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// iocList is the JSON body of POST /v1/enrich and POST /v1/jobs when the
// caller already has the IOCs.
type iocList struct {
	IOCs      []string `json:"iocs"`
	TLP       string   `json:"tlp,omitempty"`
	Providers []string `json:"providers,omitempty"`
}

const iocListExample = `a JSON object such as {"iocs": ["185.220.101.47", "evil[.]com"], "tlp": "amber"}`

// submission is a parsed enrich or job request.
type submission struct {
	format    input.Format
	body      []byte
	iocs      []ioc.IOC // set for an IOC list
	tlp       tlp.Level
	providers []string
}

// parseSubmission reads the body of POST /v1/enrich or /v1/jobs: an IOC
// list, or any input format. It answers the problem itself when it fails.
func (s *Server) parseSubmission(w http.ResponseWriter, r *http.Request) (submission, bool) {
	sub := submission{tlp: s.o.DefaultTLP}
	format, mt, ok := inputFormat(w, r)
	if !ok {
		return sub, false
	}
	body, _, ok := s.readBody(w, r)
	if !ok {
		return sub, false
	}
	if t := bytes.TrimSpace(body); len(t) > 0 && (t[0] == '{' || t[0] == '[') && format != input.Text && format != input.CSV && format != input.EML {
		if !checkDepth(w, r, body) {
			return sub, false
		}
	}
	sub.format, sub.body = format, body
	q := r.URL.Query()
	tlpName, provs := q.Get("tlp"), splitList(q.Get("providers"))
	if isJSONType(mt) && (format == input.Auto || format == input.JSON) {
		if !checkJSON(w, r, body, iocListExample+", or a JSON alert") {
			return sub, false
		}
		if list, isList, err := decodeIOCList(body); isList {
			if err != nil {
				jsonProblem(w, r, err, iocListExample)
				return sub, false
			}
			var bad []string
			var in enrich.Intake // deduplicates the list
			for _, v := range list.IOCs {
				i, err := ioc.Parse(v)
				if err != nil {
					bad = append(bad, fmt.Sprintf("%q: %v", v, err))
					continue
				}
				in.Value(i, func(it enrich.Item) error { sub.iocs = append(sub.iocs, it.IOC); return nil })
			}
			if len(bad) > 0 {
				writeProblem(w, r, http.StatusUnprocessableEntity, probUnprocessable,
					fmt.Sprintf("%d of the IOCs are not IOCs iocane knows: fix or remove them", len(bad)), bad...)
				return sub, false
			}
			if len(sub.iocs) == 0 {
				writeProblem(w, r, http.StatusUnprocessableEntity, probUnprocessable, `"iocs" is empty: list at least one IOC`)
				return sub, false
			}
			if tlpName == "" {
				tlpName = list.TLP
			}
			if provs == nil {
				provs = list.Providers
			}
		}
	}
	if tlpName != "" {
		l, err := tlp.MustParse(tlpName)
		if err != nil {
			writeProblem(w, r, http.StatusBadRequest, probBadRequest, "tlp: "+err.Error()+" (want clear, green, amber, amber+strict or red)")
			return sub, false
		}
		sub.tlp = l
	}
	for _, p := range provs {
		if s.o.ProviderNames != nil && !slices.Contains(s.o.ProviderNames, p) {
			writeProblem(w, r, http.StatusBadRequest, probBadRequest,
				fmt.Sprintf("providers: unknown provider %q (want some of %s)", p, strings.Join(s.o.ProviderNames, ", ")))
			return sub, false
		}
	}
	sub.providers = provs
	return sub, true
}

// decodeIOCList reports whether body is an object with an "iocs" member,
// and decodes it.
func decodeIOCList(body []byte) (iocList, bool, error) {
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) != nil {
		return iocList{}, false, nil
	}
	if _, ok := probe["iocs"]; !ok {
		return iocList{}, false, nil
	}
	var l iocList
	return l, true, json.Unmarshal(body, &l)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// handleEnrich enriches up to SyncMaxIOCs IOCs in the request and answers
// when all are done or the deadline passes, with per-source statuses.
func (s *Server) handleEnrich(w http.ResponseWriter, r *http.Request) {
	timeout := s.o.SyncTimeout
	if t := r.URL.Query().Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 || d > MaxSyncTimeout {
			writeProblem(w, r, http.StatusBadRequest, probBadRequest,
				fmt.Sprintf("?timeout=%q: want a duration such as 10s, at most %s", t, MaxSyncTimeout))
			return
		}
		timeout = d
	}
	sub, ok := s.parseSubmission(w, r)
	if !ok {
		return
	}
	if len(sub.providers) > 0 {
		writeProblem(w, r, http.StatusBadRequest, probBadRequest, "providers: choosing providers is not supported by the synchronous endpoint: use POST /v1/jobs")
		return
	}
	items, ok := s.syncItems(w, r, sub)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	results := make([]result.Result, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Go(func() { results[i] = s.o.Engine.Enrich(ctx, it) })
	}
	wg.Wait()
	store := context.WithoutCancel(r.Context())
	recs := make([]history.Record, 0, len(results))
	for _, res := range results {
		if err := s.o.Store.PutResult(store, res); err != nil {
			s.o.Logger.Warn("result not stored", "request_id", requestID(r.Context()), "error", err)
		}
		recs = append(recs, history.EntryOf(res, "api", "", ""))
	}
	if s.o.Memory != nil {
		if err := s.o.Memory.RecordHistory(store, recs); err != nil {
			s.o.Logger.Warn("history not recorded", "request_id", requestID(r.Context()), "error", err)
		}
	}
	format, ctype := "json", "application/json"
	if wantsNDJSON(r) {
		format, ctype = "jsonl", "application/x-ndjson"
	}
	w.Header().Set("Content-Type", ctype)
	ow, err := output.New(format, w, output.Options{TLP: sub.tlp})
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, probInternal, "no "+format+" writer is built in")
		return
	}
	for _, res := range results {
		if err := ow.Write(output.Normalize(res)); err != nil {
			return
		}
	}
	ow.Close()
}

// syncItems turns a submission into at most SyncMaxIOCs items.
func (s *Server) syncItems(w http.ResponseWriter, r *http.Request, sub submission) ([]enrich.Item, bool) {
	var items []enrich.Item
	tooMany := func() ([]enrich.Item, bool) {
		writeProblem(w, r, http.StatusUnprocessableEntity, probTooManyIOCs,
			fmt.Sprintf("the synchronous endpoint takes at most %d IOCs: submit larger inputs as a job with POST /v1/jobs", s.o.SyncMaxIOCs))
		return nil, false
	}
	if sub.iocs != nil {
		if len(sub.iocs) > s.o.SyncMaxIOCs {
			return tooMany()
		}
		for _, i := range sub.iocs {
			items = append(items, enrich.Item{IOC: i, TLP: sub.tlp})
		}
		return items, true
	}
	errTooMany := errors.New("too many")
	in := &enrich.Intake{TLP: sub.tlp, Input: input.Options{Format: sub.format, MaxSize: s.o.MaxBody}}
	err := in.Read(r.Context(), bytes.NewReader(sub.body), "body", func(it enrich.Item) error {
		if len(items) == s.o.SyncMaxIOCs {
			return errTooMany
		}
		items = append(items, it)
		return nil
	})
	switch {
	case errors.Is(err, errTooMany):
		return tooMany()
	case err != nil && !errors.Is(err, input.ErrTruncated):
		writeProblem(w, r, http.StatusBadRequest, probBadRequest, "the body could not be read as "+string(sub.format)+": "+err.Error())
		return nil, false
	case len(items) == 0:
		writeProblem(w, r, http.StatusUnprocessableEntity, probUnprocessable, "no IOCs found in the body: send IP addresses, domains, URLs, hashes, e-mail addresses or CVEs")
		return nil, false
	}
	return items, true
}

// holdsIOC reads the body until its first IOC, answering 400 itself for a
// body that cannot be read and 422 for one that holds none (such as []),
// as the synchronous endpoint does: a job that could only find nothing is
// refused now.
func (s *Server) holdsIOC(w http.ResponseWriter, r *http.Request, sub submission) bool {
	errFound := errors.New("found")
	in := &enrich.Intake{TLP: sub.tlp, Input: input.Options{Format: sub.format, MaxSize: s.o.MaxBody}}
	err := in.Read(r.Context(), bytes.NewReader(sub.body), "body", func(enrich.Item) error { return errFound })
	switch {
	case errors.Is(err, errFound):
		return true
	case err != nil && !errors.Is(err, input.ErrTruncated):
		writeProblem(w, r, http.StatusBadRequest, probBadRequest, "the body could not be read as "+string(sub.format)+": "+err.Error())
		return false
	}
	writeProblem(w, r, http.StatusUnprocessableEntity, probUnprocessable, "no IOCs found in the body: send IP addresses, domains, URLs, hashes, e-mail addresses or CVEs")
	return false
}

func wantsNDJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/x-ndjson") || strings.Contains(a, "application/jsonl")
}

// jobView is a job as the API shows it.
type jobView struct {
	jobs.Job
	// Existing is true when an idempotency key matched an earlier job.
	Existing bool              `json:"existing,omitempty"`
	Links    map[string]string `json:"links"`
}

func viewOf(j jobs.Job, existing bool) jobView {
	return jobView{Job: j, Existing: existing, Links: map[string]string{
		"self": "/v1/jobs/" + j.ID, "results": "/v1/jobs/" + j.ID + "/results"}}
}

// handleSubmitJob stores a job and answers 202 with its id.
func (s *Server) handleSubmitJob(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.parseSubmission(w, r)
	if !ok || (sub.iocs == nil && !s.holdsIOC(w, r, sub)) {
		return
	}
	pivot, pap, ok := pivotParams(w, r, s.o.JobPivot, "")
	if !ok {
		return
	}
	spec := jobs.Spec{
		IdempotencyKey: strings.TrimSpace(r.Header.Get("Idempotency-Key")),
		Source:         "api",
		InputFormat:    string(sub.format),
		Input:          sub.body,
		TLP:            sub.tlp.String(),
		Providers:      sub.providers,
		Pivot:          pivot,
		PAP:            pap,
	}
	if sub.iocs != nil {
		var b strings.Builder
		for _, i := range sub.iocs {
			b.WriteString(i.Value)
			b.WriteByte('\n')
		}
		spec.InputFormat, spec.Input = string(input.Text), []byte(b.String())
	}
	s.submit(w, r, spec)
}

// submit hands spec to the queue and answers 202 (or the earlier job).
func (s *Server) submit(w http.ResponseWriter, r *http.Request, spec jobs.Spec) {
	if len(spec.IdempotencyKey) > 256 {
		writeProblem(w, r, http.StatusBadRequest, probBadRequest, "Idempotency-Key is over 256 characters: use a shorter key, such as a UUID")
		return
	}
	j, existing, err := s.o.Queue.Submit(r.Context(), spec)
	if errors.Is(err, jobs.ErrInvalid) {
		writeProblem(w, r, http.StatusBadRequest, probBadRequest, "the job cannot run: "+err.Error())
		return
	}
	if err != nil {
		s.o.Logger.Error("job not stored", "request_id", requestID(r.Context()), "backend", s.o.StoreName, "error", err)
		w.Header().Set("Retry-After", strconv.Itoa(int(StoreRetryAfter.Seconds())))
		writeProblem(w, r, http.StatusServiceUnavailable, probUnavailable, "the job could not be stored ("+s.o.StoreName+" did not answer), so it was not accepted: retry later")
		return
	}
	w.Header().Set("Location", "/v1/jobs/"+j.ID)
	if existing {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusAccepted, viewOf(j, existing))
}

// job fetches the job named in the path, answering 404 itself.
func (s *Server) job(w http.ResponseWriter, r *http.Request) (jobs.Job, bool) {
	id := r.PathValue("id")
	j, err := s.o.Queue.Get(r.Context(), id)
	if errors.Is(err, jobs.ErrNotFound) {
		writeProblem(w, r, http.StatusNotFound, probNotFound, fmt.Sprintf("no job with id %q: use the id POST /v1/jobs or a webhook answered with", id))
		return j, false
	}
	if err != nil {
		s.o.Logger.Error("job read failed", "request_id", requestID(r.Context()), "error", err)
		writeProblem(w, r, http.StatusServiceUnavailable, probUnavailable, "the job store did not answer: retry later")
		return j, false
	}
	return j, true
}

func (s *Server) handleGetJob(w http.ResponseWriter, r *http.Request) {
	if j, ok := s.job(w, r); ok {
		writeJSON(w, http.StatusOK, viewOf(j, false))
	}
}

func (s *Server) handleCancelJob(w http.ResponseWriter, r *http.Request) {
	j, ok := s.job(w, r)
	if !ok {
		return
	}
	if j.State.Terminal() {
		writeProblem(w, r, http.StatusConflict, probConflict, fmt.Sprintf("job %s is already %s: there is nothing to cancel", j.ID, j.State))
		return
	}
	if err := s.o.Queue.Cancel(r.Context(), j.ID); err != nil {
		if errors.Is(err, jobs.ErrFinished) {
			writeProblem(w, r, http.StatusConflict, probConflict, fmt.Sprintf("job %s already finished: there is nothing to cancel", j.ID))
			return
		}
		if errors.Is(err, jobs.ErrNotFound) {
			writeProblem(w, r, http.StatusNotFound, probNotFound, fmt.Sprintf("no job with id %q", j.ID))
			return
		}
		s.o.Logger.Error("cancel failed", "request_id", requestID(r.Context()), "error", err)
		writeProblem(w, r, http.StatusConflict, probConflict, "the job could not be canceled: "+err.Error())
		return
	}
	if j2, err := s.o.Queue.Get(r.Context(), j.ID); err == nil {
		j = j2
	}
	writeJSON(w, http.StatusOK, viewOf(j, false))
}

// handleJobResults streams the job's stored results as JSONL; a job still
// running gives the results so far (X-Job-State says which).
func (s *Server) handleJobResults(w http.ResponseWriter, r *http.Request) {
	j, ok := s.job(w, r)
	if !ok {
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(15 * time.Minute)) // a large job takes a while to stream
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("X-Job-State", string(j.State))
	enc := json.NewEncoder(w)
	n := 0
	err := s.o.Queue.Results(r.Context(), j.ID, func(res result.Result) error {
		if err := enc.Encode(output.Normalize(res)); err != nil {
			return err
		}
		if n++; n%64 == 0 {
			return rc.Flush()
		}
		return nil
	})
	if err != nil && n == 0 {
		h.Del("X-Job-State")
		s.o.Logger.Error("results read failed", "request_id", requestID(r.Context()), "error", err)
		writeProblem(w, r, http.StatusServiceUnavailable, probUnavailable, "the results could not be read: retry later")
		return
	}
	if n == 0 {
		w.WriteHeader(http.StatusOK)
	}
}
