package server

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/output"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/store"
)

// OpenAPI is the API's OpenAPI 3.1 description, served at /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(OpenAPI)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz checks that the store answers with its migrations applied.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.o.Store.Ping(ctx); err != nil {
		s.o.Logger.Warn("not ready", "request_id", requestID(r.Context()), "backend", s.o.StoreName, "error", err)
		w.Header().Set("Retry-After", strconv.Itoa(int(StoreRetryAfter.Seconds())))
		writeProblem(w, r, http.StatusServiceUnavailable, probUnavailable, "the store ("+s.o.StoreName+") is not ready: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// handleGetIOC returns the latest stored result for an IOC; it never asks a
// provider.
func (s *Server) handleGetIOC(w http.ResponseWriter, r *http.Request) {
	i, ok := iocParam(w, r)
	if !ok {
		return
	}
	t, v := i.Type, i.Value
	res, err := s.o.Store.LatestResult(r.Context(), string(t), v)
	if errors.Is(err, store.ErrNotFound) {
		writeProblem(w, r, http.StatusNotFound, probNotFound,
			fmt.Sprintf("no stored result for %s %s: enrich it first with POST /v1/enrich or POST /v1/jobs", t, v))
		return
	}
	if err != nil {
		s.o.Logger.Error("result read failed", "request_id", requestID(r.Context()), "error", err)
		writeProblem(w, r, http.StatusServiceUnavailable, probUnavailable, "the store did not answer: retry later")
		return
	}
	writeJSON(w, http.StatusOK, output.Normalize(res))
}

func (s *Server) handleProviders(w http.ResponseWriter, r *http.Request) {
	if s.o.Providers == nil {
		writeJSON(w, http.StatusOK, []provider.State{})
		return
	}
	rows, err := s.o.Providers(r.Context())
	if err != nil {
		s.o.Logger.Error("providers failed", "request_id", requestID(r.Context()), "error", err)
		writeProblem(w, r, http.StatusServiceUnavailable, probUnavailable, "provider status could not be read: retry later")
		return
	}
	writeJSON(w, http.StatusOK, rows)
}

// handlePurgeCache drops cached provider answers: ?provider= one provider
// (default all), ?older_than= only answers stored longer ago (default all).
func (s *Server) handlePurgeCache(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := strings.TrimSpace(q.Get("provider"))
	var older time.Duration
	if v := q.Get("older_than"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			writeProblem(w, r, http.StatusBadRequest, probBadRequest, fmt.Sprintf("?older_than=%q: want a duration such as 24h", v))
			return
		}
		older = d
	}
	n, err := s.o.Store.PurgeCache(r.Context(), p, older)
	if err != nil {
		s.o.Logger.Error("purge failed", "request_id", requestID(r.Context()), "error", err)
		writeProblem(w, r, http.StatusServiceUnavailable, probUnavailable, "the cache could not be purged: retry later")
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"purged": n})
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	s.metrics.handler().ServeHTTP(w, r)
}
