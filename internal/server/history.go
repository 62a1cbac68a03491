package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/iocane/iocane/internal/history"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/store"
)

// Memory is the IOC memory the server reads and the analysts write
// (*store.DB satisfies it).
type Memory interface {
	RecordHistory(ctx context.Context, recs []history.Record) error
	HistoryReport(ctx context.Context, i ioc.IOC, limit int, now time.Time) (history.Report, error)
	SetVerdict(ctx context.Context, v history.Verdict) error
	RemoveVerdict(ctx context.Context, i ioc.IOC, by string, at time.Time) error
	Verdicts(ctx context.Context, all bool, now time.Time) ([]history.Verdict, error)
}

// Limits of GET …/history: ?limit= entries and sightings, newest first.
const (
	DefaultHistoryLimit = 100
	MaxHistoryLimit     = 1000
)

// iocParam reads the {type} and {value} of the path, answering 400 itself
// when they are not a valid IOC.
func iocParam(w http.ResponseWriter, r *http.Request) (ioc.IOC, bool) {
	t, raw := ioc.Type(r.PathValue("type")), r.PathValue("value")
	if !t.Valid() {
		writeProblem(w, r, http.StatusBadRequest, probBadRequest,
			fmt.Sprintf("unknown IOC type %q: use ipv4, ipv6, domain, url, email, md5, sha1, sha256, sha512, cve, asn or btc", t))
		return ioc.IOC{}, false
	}
	v, err := ioc.Normalize(t, raw)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, probBadRequest,
			fmt.Sprintf("%q is not a valid %s: %v (percent-encode a URL value, e.g. with encodeURIComponent)", raw, t, err))
		return ioc.IOC{}, false
	}
	return ioc.IOC{Type: t, Value: v}, true
}

// memory returns the IOC memory, answering 501 itself when there is none.
func (s *Server) memory(w http.ResponseWriter, r *http.Request) (Memory, bool) {
	if s.o.Memory == nil {
		writeProblem(w, r, http.StatusNotImplemented, probInternal, "this server keeps no IOC history")
		return nil, false
	}
	return s.o.Memory, true
}

// iocMemory is iocParam then memory, for the routes about one IOC.
func (s *Server) iocMemory(w http.ResponseWriter, r *http.Request) (ioc.IOC, Memory, bool) {
	i, ok := iocParam(w, r)
	if !ok {
		return i, nil, false
	}
	m, ok := s.memory(w, r)
	return i, m, ok
}

// handleHistory returns an IOC's history and sightings, newest first.
func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	i, m, ok := s.iocMemory(w, r)
	if !ok {
		return
	}
	limit := DefaultHistoryLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxHistoryLimit {
			writeProblem(w, r, http.StatusBadRequest, probBadRequest, fmt.Sprintf("?limit=%q: want 1 to %d", v, MaxHistoryLimit))
			return
		}
		limit = n
	}
	rep, err := m.HistoryReport(r.Context(), i, limit, time.Now())
	if err != nil {
		s.o.Logger.Error("history read failed", "request_id", requestID(r.Context()), "error", err)
		writeProblem(w, r, http.StatusServiceUnavailable, probUnavailable, "the store did not answer: retry later")
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// verdictRequest is the body of POST …/verdict.
type verdictRequest struct {
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	// Expires is an RFC 3339 time, a date or a duration (72h, 30d).
	Expires string `json:"expires"`
}

// handleSetVerdict sets an analyst verdict: it settles the IOC, before any
// quota is spent, until it expires.
func (s *Server) handleSetVerdict(w http.ResponseWriter, r *http.Request) {
	i, m, ok := s.iocMemory(w, r)
	if !ok {
		return
	}
	body, _, ok := s.readBody(w, r)
	if !ok {
		return
	}
	const want = `{"verdict": "benign|suspicious|malicious", "reason": "…", "expires": "2027-01-01T00:00:00Z or 30d"}`
	var req verdictRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		jsonProblem(w, r, err, want)
		return
	}
	now := time.Now().UTC()
	v, reason, exp, err := history.ParseVerdict(req.Verdict, req.Reason, req.Expires, now)
	if err != nil {
		writeProblem(w, r, http.StatusUnprocessableEntity, probUnprocessable, err.Error()+": send "+want)
		return
	}
	av := history.Verdict{IOC: i, Verdict: v, Reason: reason, By: info(r.Context()).token, SetAt: now, Expires: exp}
	if err := m.SetVerdict(r.Context(), av); err != nil {
		s.o.Logger.Error("verdict not stored", "request_id", requestID(r.Context()), "error", err)
		writeProblem(w, r, http.StatusServiceUnavailable, probUnavailable, "the verdict was not stored: retry later")
		return
	}
	s.o.Logger.Info("analyst verdict set", "request_id", requestID(r.Context()), "ioc", i.String(), "verdict", string(v), "by", av.By)
	if s.o.OnVerdict != nil {
		s.o.OnVerdict(av)
	}
	writeJSON(w, http.StatusOK, av)
}

// handleRemoveVerdict removes an IOC's analyst verdict.
func (s *Server) handleRemoveVerdict(w http.ResponseWriter, r *http.Request) {
	i, m, ok := s.iocMemory(w, r)
	if !ok {
		return
	}
	err := m.RemoveVerdict(r.Context(), i, info(r.Context()).token, time.Now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		writeProblem(w, r, http.StatusNotFound, probNotFound, fmt.Sprintf("no analyst verdict on %s %s", i.Type, i.Value))
		return
	}
	if err != nil {
		s.o.Logger.Error("verdict not removed", "request_id", requestID(r.Context()), "error", err)
		writeProblem(w, r, http.StatusServiceUnavailable, probUnavailable, "the verdict was not removed: retry later")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleListVerdicts lists analyst verdicts in force (?all=true: expired
// ones too), newest first.
func (s *Server) handleListVerdicts(w http.ResponseWriter, r *http.Request) {
	m, ok := s.memory(w, r)
	if !ok {
		return
	}
	all, _ := strconv.ParseBool(r.URL.Query().Get("all"))
	vs, err := m.Verdicts(r.Context(), all, time.Now())
	if err != nil {
		s.o.Logger.Error("verdicts read failed", "request_id", requestID(r.Context()), "error", err)
		writeProblem(w, r, http.StatusServiceUnavailable, probUnavailable, "the store did not answer: retry later")
		return
	}
	writeJSON(w, http.StatusOK, vs)
}
