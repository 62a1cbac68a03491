package history

import (
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
)

var now = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

func TestParseExpires(t *testing.T) {
	for in, want := range map[string]time.Time{
		"":                     {},
		"2027-01-01":           time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		"2027-01-01T12:30:00Z": time.Date(2027, 1, 1, 12, 30, 0, 0, time.UTC),
		"30d":                  now.Add(30 * 24 * time.Hour),
		"2w":                   now.Add(14 * 24 * time.Hour),
		"72h":                  now.Add(72 * time.Hour),
	} {
		got, err := ParseExpires(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseExpires(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"2020-01-01", "-3d", "0d", "soon", "-1h", "d", "1.5d"} {
		if _, err := ParseExpires(bad, now); err == nil {
			t.Errorf("ParseExpires(%q) accepted", bad)
		}
	}
}

func TestParseVerdict(t *testing.T) {
	v, why, _, err := ParseVerdict(" Benign ", "  our   CDN ", "", now)
	if err != nil || v != result.Benign || why != "our CDN" {
		t.Errorf("got %q %q %v", v, why, err)
	}
	for _, c := range [][2]string{{"unknown", "x"}, {"fine", "x"}, {"benign", "   "}, {"benign", strings.Repeat("a", MaxReason+1)}} {
		if _, _, _, err := ParseVerdict(c[0], c[1], "", now); err == nil {
			t.Errorf("ParseVerdict(%q, %q) accepted", c[0], c[1])
		}
	}
}

func TestExplain(t *testing.T) {
	v := Verdict{IOC: ioc.IOC{Type: ioc.Domain, Value: "cdn.example.net"}, Verdict: result.Benign, Reason: "our CDN", By: "soc-lead",
		Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	if got := v.Explain(); got != "analyst (soc-lead): benign until 2027-01-01: our CDN" {
		t.Errorf("Explain = %q", got)
	}
	v.Expires = time.Date(2027, 1, 1, 9, 30, 0, 0, time.UTC)
	if got := v.Explain(); got != "analyst (soc-lead): benign until 2027-01-01 09:30Z: our CDN" {
		t.Errorf("Explain = %q", got)
	}
	v.Expires = time.Time{}
	if !v.Active(now.AddDate(10, 0, 0)) || v.Explain() != "analyst (soc-lead): benign: our CDN" {
		t.Errorf("a verdict that never expires: %q", v.Explain())
	}
}

// FuzzParseVerdict: whatever an API client sends, parsing never panics,
// and what it accepts is a valid verdict with a reason and a future expiry.
func FuzzParseVerdict(f *testing.F) {
	for _, s := range [][3]string{{"benign", "our CDN", "30d"}, {"malicious", "C2", "2027-01-01"}, {"x", "", "9999999999999d"}, {"suspicious", "\x00", "-0h"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, verdict, reason, expires string) {
		v, why, exp, err := ParseVerdict(verdict, reason, expires, now)
		if err != nil {
			return
		}
		if v != result.Benign && v != result.Suspicious && v != result.Malicious || why == "" || len(why) > MaxReason || (!exp.IsZero() && !exp.After(now)) {
			t.Errorf("accepted %q %q %q as %q %q %v", verdict, reason, expires, v, why, exp)
		}
	})
}
