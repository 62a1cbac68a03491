package pipeline

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/enrich"
	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// pivotRun enriches items with pivots against the fakes and the fake DNS
// server, and returns the results by IOC.
func pivotRun(t *testing.T, f *fakeintel.Server, items ...enrich.Item) map[ioc.IOC]result.Result {
	t.Helper()
	rt := newRuntime(t, f, filepath.Join(t.TempDir(), "iocane.db"), enrich.Options{IOCTimeout: 30 * time.Second})
	in := make(chan enrich.Item, len(items))
	for _, it := range items {
		in <- it
	}
	close(in)
	out := map[ioc.IOC]result.Result{}
	if err := rt.engine.Run(context.Background(), in, func(r result.Result) error {
		if _, dup := out[r.IOC]; dup {
			t.Errorf("%s written twice", r.IOC)
		}
		out[r.IOC] = r
		return nil
	}, enrich.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	return out
}

func pivot(i ioc.IOC, depth int, pap tlp.Level) enrich.Item {
	return enrich.Item{IOC: i, TLP: tlp.Amber, Pivot: depth, PAP: pap}
}

// TestPivots is issue 14's acceptance 2, against the fakes and a loopback
// DNS server.
func TestPivots(t *testing.T) {
	f := fakeintel.New(fakeintel.Options{})
	f.Start()
	t.Cleanup(f.Close)
	// The IOC's own web server: nothing may ever reach it.
	var hits atomic.Int32
	ioHost := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(ioHost.Close)
	u, _ := url.Parse(ioHost.URL)

	phish := ioc.IOC{Type: ioc.Domain, Value: "login-micros0ft-verify.net"}
	private := ioc.IOC{Type: ioc.Domain, Value: "intranet-sso-portal.com"}
	lure := ioc.IOC{Type: ioc.URL, Value: "http://payload-drop.net:" + u.Port() + "/stage2.bin"}
	f.SetDNS(phish.Value, fakeintel.MaliciousIP.Value)
	f.SetDNS(private.Value, "10.0.0.5")
	f.SetDNS("payload-drop.net", "127.0.0.1")

	got := pivotRun(t, f, pivot(phish, 1, tlp.Green), pivot(private, 1, tlp.Green), pivot(lure, 2, tlp.Green))

	// A phishing domain resolving to a known C2 IP is suspicious, and says why.
	r := got[phish]
	if r.Verdict.Rank() < result.Suspicious.Rank() || len(r.Reasons) == 0 ||
		!strings.HasPrefix(r.Reasons[0], "resolves to "+fakeintel.MaliciousIP.Value+" (malicious: ") {
		t.Errorf("phishing domain: %s %d %q", r.Verdict, r.Score, r.Reasons)
	}
	if r.Verdict == result.Malicious {
		t.Error("inheritance alone made a domain malicious")
	}
	if len(r.Related) != 1 || r.Related[0].Value != fakeintel.MaliciousIP.Value || r.Related[0].Relation != enrich.RelResolvesTo || r.Related[0].Verdict != result.Malicious {
		t.Errorf("related %+v", r.Related)
	}
	c := got[fakeintel.MaliciousIP]
	if c.Context["pivot_from"] != phish.String() || c.Context["relation"] != enrich.RelResolvesTo {
		t.Errorf("the pivoted IP's context: %v", c.Context)
	}

	// A domain resolving to a private address pivots to nothing outside.
	ten := ioc.IOC{Type: ioc.IPv4, Value: "10.0.0.5"}
	if pr := got[ten]; !pr.Internal {
		t.Errorf("10.0.0.5: %+v", pr)
	}
	if p, ok := f.Saw(ten.Value); ok {
		t.Errorf("10.0.0.5 reached %s", p)
	}

	// A URL pivots to its host, the host to its address; nothing is fetched.
	if !slices.ContainsFunc(got[lure].Related, func(x result.Related) bool { return x.Value == "payload-drop.net" && x.Relation == enrich.RelHost }) {
		t.Errorf("URL related %+v", got[lure].Related)
	}
	if _, ok := got[ioc.IOC{Type: ioc.IPv4, Value: "127.0.0.1"}]; !ok {
		t.Errorf("depth 2: the host's address was not pivoted to: %+v; dns %v", got[ioc.IOC{Type: ioc.Domain, Value: "payload-drop.net"}], f.DNSQueries())
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the IOC's own server received %d requests", n)
	}
}

// TestPivotPAPAmber: PAP:AMBER input makes no DNS query; passive pivots
// (a URL's host) still happen.
func TestPivotPAPAmber(t *testing.T) {
	f := fakeintel.New(fakeintel.Options{})
	f.Start()
	t.Cleanup(f.Close)
	phish := ioc.IOC{Type: ioc.Domain, Value: "login-micros0ft-verify.net"}
	f.SetDNS(phish.Value, fakeintel.MaliciousIP.Value)
	lure := ioc.IOC{Type: ioc.URL, Value: "http://" + phish.Value + "/office365"}
	got := pivotRun(t, f, pivot(lure, 2, tlp.Amber))
	if q := f.DNSQueries(); len(q) != 0 {
		t.Errorf("PAP:AMBER input made DNS queries: %v", q)
	}
	if len(got[lure].Related) != 1 || got[lure].Related[0].Value != phish.Value {
		t.Errorf("passive pivot: %+v", got[lure].Related)
	}
	if _, ok := got[fakeintel.MaliciousIP]; ok {
		t.Error("PAP:AMBER input was resolved")
	}
}
