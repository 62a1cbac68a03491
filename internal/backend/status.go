// Package backend reports whether the shared backends a scaled-out iocane
// leans on (Redis, PostgreSQL) answer, as the Prometheus gauge
// iocane_backend_up{backend}: 1 while a backend answers, 0 during an
// outage. It sits apart from the server's metrics so that whatever talks to
// a backend can set its state without importing the server, and the server
// (or anyone holding a registry) can export it.
package backend

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Status holds each backend's state. The zero value is ready to use and
// exports nothing until a backend is Set; it is safe for concurrent use.
type Status struct {
	mu sync.Mutex
	up map[string]bool
}

var _ prometheus.Collector = (*Status)(nil)

// Set records whether backend (e.g. "redis") answers.
func (s *Status) Set(backend string, up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.up == nil {
		s.up = map[string]bool{}
	}
	s.up[backend] = up
}

// Up reports whether backend answers, and whether it was ever Set.
func (s *Status) Up(backend string) (up, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	up, known = s.up[backend]
	return up, known
}

var descUp = prometheus.NewDesc("iocane_backend_up",
	"Whether a shared backend answers: 1 up, 0 unreachable (iocane falls back to local limits meanwhile).", []string{"backend"}, nil)

// Describe implements prometheus.Collector.
func (s *Status) Describe(ch chan<- *prometheus.Desc) { ch <- descUp }

// Collect implements prometheus.Collector: one gauge per backend Set.
func (s *Status) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, up := range s.up {
		v := 0.0
		if up {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, v, name)
	}
}
