package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/store"
)

// TestStorm is issue 6 acceptance 3: 500 malicious alerts within one
// (fake-clock) minute produce at most the configured 10 messages plus
// digests, and every one of the 500 alerts is named in a message or a
// digest, once.
func TestStorm(t *testing.T) {
	const alerts, rate = 500, 10
	clock := newClock()
	slack, teams, wh := newHook(t, clock), newHook(t, clock), newHook(t, clock)
	teams.setAnswer(202, "")
	c := testConfig([]Rule{{Channel: Slack, MinVerdict: result.Malicious}, {Channel: Teams, MinVerdict: result.Malicious}, {Channel: Webhook, MinVerdict: result.Malicious}}, slack, teams, wh)
	s := mustNew(t, c, clock)
	start := clock.Now()
	ctx := context.Background()
	for i := range alerts {
		d := alertDelivery("splunk", fmt.Sprintf("storm-%03d", i))
		for _, sink := range s.Sinks() {
			if err := sink.Deliver(ctx, d); err != nil && !errors.Is(err, integrations.ErrHeld) {
				t.Fatalf("%s: alert %d: %v", sink.Name(), i, err)
			}
		}
		clock.Advance(100 * time.Millisecond) // 500 alerts in 50 s
	}
	for _, n := range s.Notifiers() {
		if got := n.Held(); got != alerts-rate {
			t.Errorf("%s: %d held, want %d", n.Name(), got, alerts-rate)
		}
	}
	// Within the storm's minute: exactly the configured number of messages.
	for name, h := range map[string]*hook{"slack": slack, "teams": teams, "webhook": wh} {
		if got := len(h.requests()); got != rate {
			t.Errorf("%s: %d messages during the storm, want %d", name, got, rate)
		}
	}
	// The window reopens: the digest goes out, split into parts of 50.
	clock.Advance(start.Add(time.Minute).Sub(clock.Now()) + time.Second)
	for _, n := range s.Notifiers() {
		if err := n.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := n.Held(); got != 0 {
			t.Errorf("%s: %d still held after the window reopened", n.Name(), got)
		}
	}
	wantDigests := (alerts - rate + c.DigestSize - 1) / c.DigestSize // 490 alerts: 10 parts
	for name, h := range map[string]*hook{"slack": slack, "teams": teams, "webhook": wh} {
		reqs := h.requests()
		if got := len(reqs); got != rate+wantDigests {
			t.Errorf("%s: %d requests, want %d messages + %d digest parts", name, got, rate, wantDigests)
		}
		// No window of one minute ever carries more than the rate.
		for i := range reqs {
			n := 0
			for j := i; j < len(reqs) && reqs[j].At.Sub(reqs[i].At) < time.Minute; j++ {
				n++
			}
			if n > rate {
				t.Errorf("%s: %d messages within a minute from request %d", name, n, i)
			}
		}
		// Every alert named, once (structured for the webhook, text for chat).
		counts := map[string]int{}
		for _, r := range reqs {
			if name == "webhook" {
				for id, n := range webhookIDs(t, r.Body) {
					counts[id] += n
				}
				continue
			}
			for i := range alerts {
				id := fmt.Sprintf("storm-%03d", i)
				counts[id] += strings.Count(string(r.Body), "splunk "+id+")")
			}
		}
		for i := range alerts {
			id := fmt.Sprintf("storm-%03d", i)
			if counts[id] == 0 {
				t.Errorf("%s: alert %s named in no message or digest", name, id)
			}
			if name == "webhook" && counts[id] != 1 {
				t.Errorf("webhook: alert %s named %d times", id, counts[id])
			}
		}
	}
}

// webhookIDs counts the alert ids a generic webhook body names.
func webhookIDs(t *testing.T, body []byte) map[string]int {
	t.Helper()
	var v struct {
		Type   string  `json:"type"`
		Alert  Alert   `json:"alert"`
		Alerts []Entry `json:"alerts"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	if v.Type == "iocane.notification" {
		out[v.Alert.ID]++
	}
	for _, e := range v.Alerts {
		out[e.Alert.ID]++
	}
	return out
}

// TestCloseSendsHeld: on shutdown the held alerts go out regardless of the
// rate, and a digest that fails is kept, not lost.
func TestCloseSendsHeld(t *testing.T) {
	clock := newClock()
	mt := &memTransport{}
	c := Config{Rules: []Rule{{Channel: Slack, MinVerdict: result.Malicious}}, DigestSize: 4, MaxIOCs: 20, DedupeSize: 100, DedupeTTL: time.Hour}
	n := newNotifier("slack", Slack, c, ratelimit.Rate{N: 2, Per: time.Minute}, DefaultMaxTLP, mt, Options{Now: clock.Now, Logger: discard()})
	ctx := context.Background()
	for i := range 12 {
		if err := n.Deliver(ctx, alertDelivery("elastic", fmt.Sprint("a", i))); err != nil && !errors.Is(err, integrations.ErrHeld) {
			t.Fatal(err)
		}
	}
	if msgs, digests := mt.counts(); msgs != 2 || digests != 0 || n.Held() != 10 {
		t.Fatalf("messages %d digests %d held %d, want 2, 0, 10", msgs, digests, n.Held())
	}
	mt.fail = fmt.Errorf("relay down")
	if err := n.Close(ctx); err == nil || n.Held() != 10 {
		t.Fatalf("failed Close: err %v, held %d; want an error and all 10 kept", err, n.Held())
	}
	mt.fail = nil
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	_, digests := mt.counts()
	named := map[string]bool{}
	for _, d := range mt.digests {
		if d.Parts != 3 || d.Held != 10 {
			t.Errorf("digest part %d/%d of %d, want x/3 of 10", d.Part, d.Parts, d.Held)
		}
		for _, e := range d.Entries {
			named[e.Alert.ID] = true
		}
	}
	if digests != 3 || len(named) != 10 {
		t.Errorf("%d digests naming %d alerts, want 3 naming 10", digests, len(named))
	}
}

// TestRunSendsDigestWhenWindowOpens drives the timer with testing/synctest
// (fake time; no real sleep).
func TestRunSendsDigestWhenWindowOpens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt := &memTransport{}
		c := Config{Rules: []Rule{{Channel: Teams, MinVerdict: result.Malicious}}, DigestSize: 50, MaxIOCs: 20, DedupeSize: 100, DedupeTTL: time.Hour}
		n := newNotifier("teams", Teams, c, ratelimit.Rate{N: 3, Per: time.Minute}, DefaultMaxTLP, mt, Options{Now: time.Now, Logger: discard()})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { n.Run(ctx); close(done) }()
		for i := range 8 {
			_ = n.Deliver(ctx, alertDelivery("thehive", fmt.Sprint("r", i)))
		}
		synctest.Wait()
		if msgs, digests := mt.counts(); msgs != 3 || digests != 0 {
			t.Fatalf("before the window: %d messages, %d digests", msgs, digests)
		}
		time.Sleep(59 * time.Second)
		synctest.Wait()
		if _, digests := mt.counts(); digests != 0 {
			t.Fatal("digest sent before the window reopened")
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if _, digests := mt.counts(); digests != 1 || len(mt.digests[0].Entries) != 5 {
			t.Fatalf("after the window: %d digests", digests)
		}
		cancel()
		<-done
	})
}

// Alerts held for a digest survive the process: they are kept in the store
// as they are held, a new process restores them (and still knows them, so
// a redelivery is not held twice), sends them, and the store is then empty.
// Deliver reports them held, not sent.
func TestHeldAlertsSurviveARestart(t *testing.T) {
	clock := newClock()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "iocane.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := Config{Rules: []Rule{{Channel: Slack, MinVerdict: result.Malicious}}, DigestSize: 4, MaxIOCs: 20, DedupeSize: 100, DedupeTTL: time.Hour}
	ctx := context.Background()
	first := newNotifier("slack", Slack, c, ratelimit.Rate{N: 2, Per: time.Minute}, DefaultMaxTLP, &memTransport{},
		Options{Now: clock.Now, Logger: discard(), Held: db})
	var held int
	for i := range 10 {
		err := first.Deliver(ctx, alertDelivery("elastic", fmt.Sprint("k", i)))
		switch {
		case errors.Is(err, integrations.ErrHeld):
			held++
		case err != nil:
			t.Fatal(err)
		}
	}
	if held != 8 {
		t.Fatalf("Deliver reported %d alerts held, want 8 (2 sent at once)", held)
	}
	if rows, _ := db.Held(ctx, "slack"); len(rows) != 8 {
		t.Fatalf("%d held alerts in the store, want 8", len(rows))
	}
	// The process dies here (no Close). A new one restores them.
	mt := &memTransport{}
	second := newNotifier("slack", Slack, c, ratelimit.Rate{N: 2, Per: time.Minute}, DefaultMaxTLP, mt,
		Options{Now: clock.Now, Logger: discard(), Held: db})
	if err := second.restore(ctx); err != nil {
		t.Fatal(err)
	}
	if second.Held() != 8 {
		t.Fatalf("%d alerts restored, want 8", second.Held())
	}
	if err := second.Deliver(ctx, alertDelivery("elastic", "k3")); err != nil {
		t.Errorf("a redelivery of a restored alert: %v, want nothing sent and nil", err)
	}
	if err := second.Close(ctx); err != nil {
		t.Fatal(err)
	}
	_, digests := mt.counts()
	var sent int
	for _, d := range mt.digests {
		sent += len(d.Entries)
	}
	if digests == 0 || sent != 8 {
		t.Errorf("%d digests with %d alerts, want the 8 held ones", digests, sent)
	}
	if rows, _ := db.Held(ctx, "slack"); len(rows) != 0 {
		t.Errorf("%d held alerts left in the store after they were sent", len(rows))
	}
}
