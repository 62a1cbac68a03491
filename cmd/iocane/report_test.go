package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/fakeintel"
	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/report"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/store"
)

// runIocane runs iocane in-process with env and returns stdout, stderr and
// Execute's error.
func runIocane(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	t.Setenv("IOCANE_CONFIG", "")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

// TestReportAfterEnrich: two CLI runs against the fake providers, the second
// answered from the cache, show up in the report: every IOC twice, every
// verdict, and as many cache hits in the second run as calls in the first.
func TestReportAfterEnrich(t *testing.T) {
	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	defer fake.Close()
	db := filepath.Join(t.TempDir(), "iocane.db")
	iocs := []string{"185.220.101.47", "evil-phish-login.com", "44d88612fea8a8f36de82e1278abb02f"}

	verdicts := map[string]int64{}
	for range 2 {
		stdout, stderr, err := runIocane(t, fake.Env(), append([]string{"enrich", "--db", db, "--format", "jsonl", "--timeout", "20s"}, iocs...)...)
		if err != nil {
			t.Fatalf("enrich: %v\n%s", err, stderr)
		}
		for _, r := range decodeResults(t, stdout) {
			verdicts[string(r.Verdict)]++
		}
	}

	stdout, stderr, err := runIocane(t, nil, "report", "--db", db, "--format", "json")
	if err != nil {
		t.Fatalf("report: %v\n%s", err, stderr)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%.500s", err, stdout)
	}
	c := r.Current
	if c.Runs != 2 || c.IOCs.Total != 6 || c.IOCs.BySource["cli"] != 6 {
		t.Errorf("runs %d, IOCs %d, by source %v; want 2 runs, 6 IOCs from cli", c.Runs, c.IOCs.Total, c.IOCs.BySource)
	}
	for _, v := range report.Verdicts {
		if c.Verdicts[string(v)] != verdicts[string(v)] {
			t.Errorf("verdict %s: report %d, runs printed %d", v, c.Verdicts[string(v)], verdicts[string(v)])
		}
	}
	var calls, cached, requests, httpCalls int64
	for _, p := range c.Providers {
		if spec, _ := provider.Get(p.Name); spec.Local {
			continue // local sources are never cached
		}
		calls += p.Calls
		cached += p.Cached
		if p.Requests != nil {
			requests += *p.Requests
			httpCalls += p.Calls
			if *p.HTTP429 != 0 || *p.Retries != 0 {
				t.Errorf("%s: %d 429s, %d retries from a fake that answers everything", p.Name, *p.HTTP429, *p.Retries)
			}
		}
		if p.Calls > 0 && (p.P50MS == nil || p.P95MS == nil) {
			t.Errorf("%s: %d calls but no latency", p.Name, p.Calls)
		}
	}
	if calls == 0 || cached != calls {
		t.Errorf("calls %d, cached %d: the second run should be answered from the cache, one hit per call", calls, cached)
	}
	if requests == 0 || requests < httpCalls {
		t.Errorf("%d HTTP requests recorded for %d calls to HTTP providers: want at least one per call", requests, httpCalls)
	}
	if c.Cache.HitRatio != 0.5 {
		t.Errorf("hit ratio %v, want 0.5", c.Cache.HitRatio)
	}
	if c.Deliveries.Recorded {
		t.Error("deliveries recorded though no server delivered from this store")
	}
	t.Logf("%d calls, %d cached, %d HTTP requests, %d providers", calls, cached, requests, len(c.Providers))
}

func TestReportOutFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "iocane.db")
	out := filepath.Join(dir, "weekly.html")
	if _, stderr, err := runIocane(t, nil, "report", "--db", db, "--out", out, "--until", "2026-11-30"); err != nil {
		t.Fatalf("report: %v\n%s", err, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "<!DOCTYPE html>") || strings.Count(string(b), "<svg") != 3 {
		t.Errorf("--out weekly.html did not write the HTML report:\n%.300s", b)
	}
	if !strings.Contains(string(b), "23 Nov – 30 Nov 2026") {
		t.Error("--until not applied")
	}
}

func TestReportBadUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "iocane.db")
	for _, args := range [][]string{
		{"--since", "seven days"},
		{"--since", "-7d"},
		{"--until", "next monday"},
		{"--format", "pdf"},
		{"extra-arg"},
	} {
		_, _, err := runIocane(t, nil, append([]string{"report", "--db", db}, args...)...)
		var u usageError
		if !errors.As(err, &u) && !strings.Contains(errString(err), "unknown command") && !strings.Contains(errString(err), "accepts 0 arg") {
			t.Errorf("%v: error %v, want a usage error", args, err)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestReportCountsServerJobs: a job run by iocane serve is recorded like a
// CLI run (kind job, its source), and the scheduled report is set up from
// the environment.
func TestReportCountsServerJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	fake := fakeintel.New(fakeintel.Options{})
	fake.Start()
	defer fake.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "iocane.db")
	const admin = "report-test-admin-token-0123456789"
	env := append(fake.Env(), "IOCANE_ADMIN_TOKEN="+admin, "IOCANE_REPORT_SCHEDULE=mon 08:00", "IOCANE_REPORT_DIR="+filepath.Join(dir, "reports"))
	base, logs, stop := startServe(t, env, "--db", db)

	body := []byte(`{"iocs": ["185.220.101.47", "evil-phish-login.com", "8.8.8.8"]}`)
	resp, got := call(t, "POST", base+"/v1/jobs", admin, body, map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != 202 {
		t.Fatalf("job: %d %s", resp.StatusCode, got)
	}
	var job struct{ ID, State string }
	json.Unmarshal([]byte(got), &job)
	deadline := time.Now().Add(60 * time.Second)
	for job.State != "completed" {
		if time.Now().After(deadline) {
			t.Fatalf("job not completed in 60s: %s", got)
		}
		time.Sleep(20 * time.Millisecond)
		_, got = call(t, "GET", base+"/v1/jobs/"+job.ID, admin, nil, nil)
		json.Unmarshal([]byte(got), &job)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"msg":"report scheduled","component":"report","schedule":"mon 08:00"`) {
		t.Errorf("no scheduled report in the log:\n%s", logs)
	}

	stdout, stderr, err := runIocane(t, nil, "report", "--db", db, "--format", "json")
	if err != nil {
		t.Fatalf("report: %v\n%s", err, stderr)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if r.Current.Runs != 1 || r.Current.IOCs.Total != 3 || r.Current.IOCs.BySource["api"] != 3 {
		t.Errorf("runs %d, IOCs %d by source %v; want the job's 3 IOCs from api", r.Current.Runs, r.Current.IOCs.Total, r.Current.IOCs.BySource)
	}
	var calls int64
	for _, p := range r.Current.Providers {
		calls += p.Calls
	}
	if calls == 0 {
		t.Error("the job's provider calls are not in the report")
	}
}

func TestServeRejectsBadReportSchedule(t *testing.T) {
	t.Setenv("IOCANE_CONFIG", "")
	t.Setenv("IOCANE_ADMIN_TOKEN", "report-test-admin-token-0123456789")
	for _, env := range [][3]string{
		{"IOCANE_REPORT_SCHEDULE", "mon 25:00", "bad time"},
		{"IOCANE_REPORT_SCHEDULE", "mon 08:00", "goes nowhere"}, // no dir, no e-mail
	} {
		t.Setenv(env[0], env[1])
		root := newRoot()
		root.SetOut(&bytes.Buffer{})
		root.SetErr(&bytes.Buffer{})
		root.SetArgs([]string{"serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "iocane.db")})
		err := root.Execute()
		if !isUsage(err) || !strings.Contains(err.Error(), env[2]) {
			t.Errorf("%s=%q: %v, want a usage error saying %q", env[0], env[1], err, env[2])
		}
	}
}

// outcomeQueue is the little of jobs.Queue the dispatcher reads here: a
// job without results.
type outcomeQueue struct{ jobs.Queue }

func (outcomeQueue) Results(context.Context, string, func(result.Result) error) error { return nil }

// flakySink fails its first fails attempts (permanently when permanent).
type flakySink struct {
	name      string
	fails     int
	permanent bool
	n         int
}

func (s *flakySink) Name() string                       { return s.name }
func (s *flakySink) Applies(integrations.Delivery) bool { return true }
func (s *flakySink) Deliver(context.Context, integrations.Delivery) error {
	s.n++
	switch {
	case s.permanent:
		return integrations.Permanent(errors.New("400 bad request"))
	case s.n <= s.fails:
		return errors.New("503 service unavailable")
	}
	return nil
}

// TestReportDeliveries: outcomes the integrations dispatcher records in the
// store file are the report's write-back, notification and alert figures.
func TestReportDeliveries(t *testing.T) {
	ctx := t.Context()
	db := filepath.Join(t.TempDir(), "iocane.db")
	// The report says "no data" before any server delivered from the file.
	stdout, stderr, err := runIocane(t, nil, "report", "--db", db, "--until", "2026-11-30", "--format", "json")
	if err != nil {
		t.Fatalf("report: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, `"deliveries": {
      "recorded": false`) {
		t.Errorf("deliveries recorded before any dispatcher ran:\n%.2000s", stdout)
	}

	sdb, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	w, err := sdb.OpenWriter()
	if err != nil {
		t.Fatal(err)
	}
	st := integrations.NewStore(w)
	received := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	d, err := integrations.New(integrations.Options{
		Queue: outcomeQueue{}, Store: st,
		Sinks:       []integrations.Sink{&flakySink{name: "thehive", fails: 2}, &flakySink{name: "slack", permanent: true}},
		BackoffBase: time.Nanosecond, BackoffMax: time.Nanosecond,
		Now: func() time.Time { return received.Add(1500 * time.Millisecond) },
	})
	if err != nil {
		t.Fatal(err)
	}
	job := jobs.Job{ID: "job-1", State: jobs.Completed, Source: "thehive", CreatedAt: received,
		Alert: &jobs.AlertRef{System: "thehive", ID: "~4242"}}
	outs := d.Dispatch(ctx, job, nil)
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	w.Close()
	sdb.Close()
	if len(outs) != 2 {
		t.Fatalf("outcomes: %+v", outs)
	}

	stdout, stderr, err = runIocane(t, nil, "report", "--db", db, "--until", "2026-11-30", "--format", "json")
	if err != nil {
		t.Fatalf("report: %v\n%s", err, stderr)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	c := r.Current
	want := report.Deliveries{Recorded: true,
		WriteBack: report.Outcomes{OK: 1, Retries: 2},
		Notify:    report.Outcomes{Failed: 1},
		BySink:    []report.SinkCounts{{Sink: "slack", Outcomes: report.Outcomes{Failed: 1}}, {Sink: "thehive", Outcomes: report.Outcomes{OK: 1, Retries: 2}}},
	}
	if !reflect.DeepEqual(c.Deliveries, want) {
		t.Errorf("deliveries %+v, want %+v", c.Deliveries, want)
	}
	if !c.Alerts.Recorded || c.Alerts.Updated != 1 || c.Alerts.P50MS == nil || *c.Alerts.P50MS != 1500 || *c.Alerts.P95MS != 1500 {
		t.Errorf("alerts %+v, want one alert updated 1.5 s after receipt", c.Alerts)
	}
}
