package fakeintel

import (
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ratelimit"
)

// The rates Env gives iocane are the fake's own: a fractional rate such as
// VirusTotal's free 4/min was written "15000/1000ms" (15,000 a second).
func TestEnvRatesMatchTheFake(t *testing.T) {
	for rps, want := range map[float64]time.Duration{4.0 / 60: 15 * time.Second, 0.5: 2 * time.Second, 20: 50 * time.Millisecond} {
		r, err := ratelimit.ParseRate(rateString(rps))
		if err != nil || r.Interval() != want {
			t.Errorf("%v/s written %q: interval %v (%v), want %v", rps, rateString(rps), r.Interval(), err, want)
		}
	}
}
