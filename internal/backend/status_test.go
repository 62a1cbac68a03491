package backend

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestStatusGauge: iocane_backend_up{backend} is 1 while a backend
// answers and 0 while it does not; nothing before a backend is Set.
func TestStatusGauge(t *testing.T) {
	s := &Status{}
	reg := prometheus.NewRegistry()
	reg.MustRegister(s)
	gauge := func() map[string]float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, mf := range mfs {
			if mf.GetName() != "iocane_backend_up" {
				continue
			}
			for _, m := range mf.GetMetric() {
				out[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
		return out
	}
	if g := gauge(); len(g) != 0 {
		t.Errorf("before any Set: %v", g)
	}
	s.Set("redis", true)
	if g := gauge(); g["redis"] != 1 || len(g) != 1 {
		t.Errorf("redis up: %v", g)
	}
	s.Set("redis", false)
	s.Set("postgres", true)
	if g := gauge(); g["redis"] != 0 || g["postgres"] != 1 || len(g) != 2 {
		t.Errorf("redis down, postgres up: %v", g)
	}
}
