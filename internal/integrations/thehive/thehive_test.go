package thehive

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/integrations/integrationstest"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/store"
	"github.com/iocane/iocane/internal/tlp"
)

const key = "thehive-key-0123456789abcdef"

func delivery() integrations.Delivery {
	return integrations.Delivery{
		Job: jobs.Job{ID: "job-1", State: jobs.Completed, Source: "thehive", CreatedAt: time.Now(),
			Alert: &jobs.AlertRef{System: "thehive", ID: "~4096"}},
		Results: []result.Result{
			{IOC: ioc.IOC{Type: ioc.Domain, Value: "evil-login.com"}, Verdict: result.Suspicious, Score: 55, Confidence: 40,
				Reasons: []string{"urlhaus: 2 URLs on this host"}, TLP: tlp.Green},
			{IOC: ioc.IOC{Type: ioc.IPv4, Value: "185.220.101.47"}, Verdict: result.Malicious, Score: 87, Confidence: 72,
				Reasons: []string{"virustotal: 12/94 engines flag it malicious", "abuseipdb: confidence 100 from 3319 reports"}, TLP: tlp.Amber},
			{IOC: ioc.IOC{Type: ioc.SHA256, Value: strings.Repeat("ab", 32)}, Verdict: result.Benign, Score: 0, Confidence: 60, TLP: tlp.Red},
		},
		Link: "http://127.0.0.1:8080/v1/jobs/job-1/results",
	}
}

func newSink(t *testing.T, f *integrationstest.TheHive) *Sink {
	t.Helper()
	return New(f.URL, provider.NewSecret(key), nil)
}

func TestObservablesAndComment(t *testing.T) {
	f := integrationstest.NewTheHive(key, map[string]string{"~4096": ""})
	defer f.Close()
	s := newSink(t, f)
	d := delivery()
	if !s.Applies(d) {
		t.Fatal("does not apply to a TheHive alert")
	}
	if err := s.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	got := f.Observables("alert/~4096")
	want := []integrationstest.Observable{
		{ID: got[0].ID, DataType: "ip", Data: "185.220.101.47", TLP: 2, PAP: 2, Tags: []string{"iocane:malicious"}, IOC: true,
			Message: "iocane: malicious, score 87/100, confidence 72/100\n- virustotal: 12/94 engines flag it malicious\n- abuseipdb: confidence 100 from 3319 reports"},
		{ID: got[1].ID, DataType: "domain", Data: "evil-login.com", TLP: 1, PAP: 2, Tags: []string{"iocane:suspicious"},
			Message: "iocane: suspicious, score 55/100, confidence 40/100\n- urlhaus: 2 URLs on this host"},
		{ID: got[2].ID, DataType: "hash", Data: strings.Repeat("ab", 32), TLP: 3, PAP: 2, Tags: []string{"iocane:benign"},
			Message: "iocane: benign, score 0/100, confidence 60/100"},
	}
	if len(got) != 3 {
		t.Fatalf("observables %+v", got)
	}
	for i := range want {
		if g, w := got[i], want[i]; g.DataType != w.DataType || g.Data != w.Data || g.TLP != w.TLP || g.PAP != w.PAP ||
			!slices.Equal(g.Tags, w.Tags) || g.IOC != w.IOC || g.Message != w.Message {
			t.Errorf("observable %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	cs := f.Comments("alert/~4096")
	wantComment := "**iocane enrichment**: 1 malicious, 1 suspicious, 1 benign (job `job-1`)\n\n" +
		"| Verdict | Score | Type | IOC | Reasons |\n|---|---|---|---|---|\n" +
		"| malicious | 87 | ipv4 | `185.220.101.47` | virustotal: 12/94 engines flag it malicious; abuseipdb: confidence 100 from 3319 reports |\n" +
		"| suspicious | 55 | domain | `evil-login.com` | urlhaus: 2 URLs on this host |\n" +
		"| benign | 0 | sha256 | `" + strings.Repeat("ab", 32) + "` | - |\n" +
		"\nFull result: http://127.0.0.1:8080/v1/jobs/job-1/results\n"
	if len(cs) != 1 || cs[0].Message != wantComment {
		t.Errorf("comments %+v\nwant %q", cs, wantComment)
	}
	for _, r := range f.Requests() {
		if r.Header.Get("Authorization") != "Bearer "+key {
			t.Errorf("%s %s: Authorization %q", r.Method, r.Path, r.Header.Get("Authorization"))
		}
		if r.Method == "POST" && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: Content-Type %q", r.Method, r.Path, r.Header.Get("Content-Type"))
		}
	}
	if n := len(f.Matching("POST", "/api/v1/alert/~4096/observable")); n != 3 {
		t.Errorf("%d observable requests", n)
	}
}

func TestPromotedToCase(t *testing.T) {
	f := integrationstest.NewTheHive(key, map[string]string{"~4096": "~123"})
	defer f.Close()
	if err := newSink(t, f).Deliver(context.Background(), delivery()); err != nil {
		t.Fatal(err)
	}
	if len(f.Observables("case/~123")) != 3 || len(f.Comments("case/~123")) != 1 || len(f.Observables("alert/~4096")) != 0 {
		t.Errorf("case observables %d, comments %d; alert observables %d", len(f.Observables("case/~123")),
			len(f.Comments("case/~123")), len(f.Observables("alert/~4096")))
	}
}

func TestExistingObservableIsNotDuplicated(t *testing.T) {
	f := integrationstest.NewTheHive(key, map[string]string{"~4096": ""})
	defer f.Close()
	f.AddObservable("alert/~4096", integrationstest.Observable{ID: "~1", DataType: "ip", Data: "185.220.101.47"})
	if err := newSink(t, f).Deliver(context.Background(), delivery()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Observables("alert/~4096")); n != 3 {
		t.Errorf("%d observables, want 3 (one pre-existing, two added)", n)
	}
}

func dispatcher(t *testing.T, s integrations.Sink, d integrations.Delivery) (*integrations.Dispatcher, *integrations.Store) {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "iocane.db"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := db.OpenWriter()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); db.Close() })
	st := integrations.NewStore(w)
	q := &queue{job: d.Job, results: d.Results}
	disp, err := integrations.New(integrations.Options{Sinks: []integrations.Sink{s}, Queue: q, Store: st,
		BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond, Link: func(string) string { return d.Link }})
	if err != nil {
		t.Fatal(err)
	}
	return disp, st
}

type queue struct {
	jobs.Queue
	job     jobs.Job
	results []result.Result
}

func (q *queue) Get(context.Context, string) (jobs.Job, error) { return q.job, nil }
func (q *queue) Results(_ context.Context, _ string, fn func(result.Result) error) error {
	for _, r := range q.results {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// TestUnavailableThriceThenCreated is issue 6 acceptance 2: TheHive
// answers 503 three times, then 201; the write-back lands exactly once and
// the outcome counts the retries.
func TestUnavailableThriceThenCreated(t *testing.T) {
	f := integrationstest.NewTheHive(key, map[string]string{"~4096": ""})
	defer f.Close()
	f.Fail("POST", "/api/v1/alert/~4096/observable", 3, 503)
	d := delivery()
	disp, st := dispatcher(t, newSink(t, f), d)
	disp.OnComplete(d.Job)
	disp.Close(context.Background())
	if n, c := len(f.Observables("alert/~4096")), len(f.Comments("alert/~4096")); n != 3 || c != 1 {
		t.Fatalf("%d observables and %d comments, want 3 and 1", n, c)
	}
	// 3 refused + 3 created: the ones that landed were never sent again.
	if n := len(f.Matching("POST", "/api/v1/alert/~4096/observable")); n != 6 {
		t.Errorf("%d observable requests, want 6", n)
	}
	if n := len(f.Matching("GET", "/api/v1/alert/~4096")); n != 1 {
		t.Errorf("alert read %d times, want once (the target is a recorded step)", n)
	}
	o, err := st.Outcome(context.Background(), d.Job.ID, Name)
	if err != nil || !o.OK || o.Attempts != 4 || o.Retries != 3 || o.Kind != integrations.KindWriteBack {
		t.Errorf("outcome %+v %v", o, err)
	}
	t.Logf("outcome: ok=%v attempts=%d retries=%d took=%v", o.OK, o.Attempts, o.Retries, o.Finished.Sub(o.StartedAt))
}

// TestPartialThenResume: the observables land, the comment fails twice;
// the retries resume at the comment instead of adding observables again.
func TestPartialThenResume(t *testing.T) {
	f := integrationstest.NewTheHive(key, map[string]string{"~4096": ""})
	defer f.Close()
	f.Fail("POST", "/api/v1/alert/~4096/comment", 2, 502)
	d := delivery()
	disp, st := dispatcher(t, newSink(t, f), d)
	disp.OnComplete(d.Job)
	disp.Close(context.Background())
	if n := len(f.Matching("POST", "/api/v1/alert/~4096/observable")); n != 3 {
		t.Errorf("%d observable requests, want 3: a retry repeated one that had landed", n)
	}
	if c := len(f.Comments("alert/~4096")); c != 1 {
		t.Errorf("%d comments", c)
	}
	steps, _ := st.Steps(context.Background(), d.Job.ID, Name)
	if len(steps) != 5 { // target, 3 observables, comment
		t.Errorf("steps %v", steps)
	}
}

// TestLostAnswer: the observable is created but the answer is a 503; the
// retry sees "already exists" and counts it landed.
func TestLostAnswer(t *testing.T) {
	f := integrationstest.NewTheHive(key, map[string]string{"~4096": ""})
	defer f.Close()
	f.LandThenFail("POST", "/api/v1/alert/~4096/observable", 1, 503)
	d := delivery()
	disp, st := dispatcher(t, newSink(t, f), d)
	disp.OnComplete(d.Job)
	disp.Close(context.Background())
	if n := len(f.Observables("alert/~4096")); n != 3 {
		t.Errorf("%d observables, want 3", n)
	}
	if o, _ := st.Outcome(context.Background(), d.Job.ID, Name); !o.OK || o.Attempts != 2 {
		t.Errorf("outcome %+v", o)
	}
}

func TestBadKeyIsPermanent(t *testing.T) {
	f := integrationstest.NewTheHive("another-key-0123456789", map[string]string{"~4096": ""})
	defer f.Close()
	d := delivery()
	disp, st := dispatcher(t, newSink(t, f), d)
	disp.OnComplete(d.Job)
	disp.Close(context.Background())
	o, _ := st.Outcome(context.Background(), d.Job.ID, Name)
	if o.OK || o.State != integrations.StateFailed || o.Attempts != 1 || !strings.Contains(o.Error, "401") {
		t.Errorf("outcome %+v, want one attempt, failed with the 401", o)
	}
	if strings.Contains(o.Error, key) {
		t.Error("the key is in the error")
	}
	err := newSink(t, f).Deliver(context.Background(), d)
	if !errors.Is(err, integrations.ErrPermanent) || !errors.Is(err, provider.ErrUnauthorized) {
		t.Errorf("error %v: want permanent and unauthorized", err)
	}
}

func TestServerErrorIsRetried(t *testing.T) {
	f := integrationstest.NewTheHive(key, map[string]string{"~4096": ""})
	defer f.Close()
	f.Fail("GET", "/api/v1/alert/", 1, 500)
	err := newSink(t, f).Deliver(context.Background(), delivery())
	if err == nil || errors.Is(err, integrations.ErrPermanent) {
		t.Errorf("error %v: want a retryable error", err)
	}
}

func TestApplies(t *testing.T) {
	s := New("http://127.0.0.1:9", provider.NewSecret(key), nil)
	d := delivery()
	d.Job.Alert.System = "splunk"
	if s.Applies(d) {
		t.Error("applies to a Splunk alert")
	}
	d = delivery()
	d.Results = nil
	if s.Applies(d) {
		t.Error("applies without results")
	}
}

// An alert id, or a case id TheHive answers with, that is a dot segment or
// not an id at all is refused before any request is built with it: ".."
// would make /api/v1/alert/../observable.
func TestDotSegmentIDsAreRefused(t *testing.T) {
	for _, id := range []string{"..", ".", "", "a\nb"} {
		f := integrationstest.NewTheHive(key, map[string]string{id: ""})
		d := delivery()
		d.Job.Alert.ID = id
		err := newSink(t, f).Deliver(context.Background(), d)
		if !errors.Is(err, integrations.ErrPermanent) {
			t.Errorf("alert id %q: %v, want a permanent error", id, err)
		}
		if n := len(f.Requests()); n != 0 {
			t.Errorf("alert id %q: %d requests sent", id, n)
		}
		f.Close()
	}
	f := integrationstest.NewTheHive(key, map[string]string{"~4096": ".."})
	defer f.Close()
	err := newSink(t, f).Deliver(context.Background(), delivery())
	if !errors.Is(err, integrations.ErrPermanent) {
		t.Errorf("case id \"..\": %v, want a permanent error", err)
	}
	for _, r := range f.Requests() {
		if strings.Contains(r.Path, "..") || r.Method != http.MethodGet {
			t.Errorf("request %s %s sent for case id \"..\"", r.Method, r.Path)
		}
	}
}

// Each IOC type maps to TheHive's own observable type: an AS number is
// autonomous-system, not other.
func TestDataTypes(t *testing.T) {
	for typ, want := range map[ioc.Type]string{ioc.IPv4: "ip", ioc.IPv6: "ip", ioc.Domain: "domain", ioc.URL: "url", ioc.Email: "mail",
		ioc.MD5: "hash", ioc.SHA256: "hash", ioc.ASN: "autonomous-system", ioc.CVE: "other"} {
		if got := DataType(typ); got != want {
			t.Errorf("%s: dataType %q, want %q", typ, got, want)
		}
	}
}
