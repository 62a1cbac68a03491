package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/result"
)

func digestOf(n int, name string) Digest {
	at := newClock().Now()
	d := Digest{Part: 1, Parts: 1, Held: n}
	for i := range n {
		m, _ := build(alertDelivery("splunk", fmt.Sprintf("d-%03d", i)), []Rule{{MinVerdict: result.Malicious}}, 20, DefaultMaxTLP)
		m.Alert.Name = name
		if i%2 == 0 {
			m.Alert.Link = "https://splunk.example.com/alert/" + m.Alert.ID
		}
		d.Entries = append(d.Entries, entryOf(m, at))
	}
	return d
}

func TestDigestBodies(t *testing.T) {
	d := digestOf(3, "Beacon <to> C2 & co")
	d.Part, d.Parts, d.Held = 2, 4, 190
	for name, v := range map[string]any{"slack_digest.json": slackDigestBody(d), "teams_digest.json": teamsDigestBody(d)} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name, b)
	}
}

// TestTeamsDigestSplitsUnderSizeLimit: a digest too big for one Teams card
// goes out in several, each under the limit, naming every alert.
func TestTeamsDigestSplitsUnderSizeLimit(t *testing.T) {
	clock := newClock()
	teams := newHook(t, clock)
	c := testConfig(nil, nil, teams, nil)
	s := mustNew(t, c, clock)
	tt := s.Notifiers()[0].t.(teamsTransport)
	d := digestOf(100, strings.Repeat("A very long detection rule name ", 10))
	if err := tt.sendDigest(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	reqs := teams.requests()
	if len(reqs) < 2 {
		t.Fatalf("%d posts, want the digest split", len(reqs))
	}
	all := ""
	for _, r := range reqs {
		if len(r.Body) > teamsMaxBody {
			t.Errorf("card of %d bytes, over %d", len(r.Body), teamsMaxBody)
		}
		all += string(r.Body)
	}
	for i := range 100 {
		if !strings.Contains(all, fmt.Sprintf("splunk d-%03d)", i)) {
			t.Errorf("alert d-%03d missing from the split digest", i)
		}
	}
}

// TestConcurrentDuplicates: the same alert delivered from many goroutines at
// once gives one message.
func TestConcurrentDuplicates(t *testing.T) {
	mt := &memTransport{}
	c := Config{Rules: []Rule{{Channel: Slack, MinVerdict: result.Malicious}}, DigestSize: 50, MaxIOCs: 20, DedupeSize: 100, DedupeTTL: time.Hour}
	n := newNotifier("slack", Slack, c, ratelimit.Rate{N: 100, Per: time.Minute}, DefaultMaxTLP, mt, Options{Now: newClock().Now, Logger: discard()})
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() { _ = n.Deliver(context.Background(), maliciousDelivery()) })
	}
	wg.Wait()
	if msgs, digests := mt.counts(); msgs != 1 || digests != 0 {
		t.Fatalf("%d messages, %d digests for one alert, want 1, 0", msgs, digests)
	}
}
