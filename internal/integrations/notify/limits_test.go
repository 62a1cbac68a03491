package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
)

// longDelivery is an alert with a 2,312-character link and twenty IOCs
// whose values are 3,000-character URLs.
func longDelivery() Message { return longMessage(20) }

// longMessage is longDelivery with n IOCs, all shown.
func longMessage(n int) Message {
	d := maliciousDelivery()
	d.Job.Alert.Link = "https://splunk.example.com/app/search/search?q=" + strings.Repeat("x", 2312-47)
	var rs []result.Result
	for i := range n {
		u := fmt.Sprintf("https://evil%d.example/%s", i, strings.Repeat("p", 3000))
		rs = append(rs, result.Result{IOC: ioc.IOC{Type: ioc.URL, Value: u}, Verdict: result.Malicious, Score: 90,
			Reasons: []string{strings.Repeat("a long reason ", 40)},
			Sources: []result.Source{src("virustotal", "ok", "https://www.virustotal.com/gui/url/"+strings.Repeat("f", 64))}})
	}
	d.Results = rs
	m, _ := build(d, []Rule{{Channel: Teams, MinVerdict: result.Malicious}}, n, DefaultMaxTLP)
	return m
}

// Teams drops a message over about 28 KB: the card stays under it, and the
// IOCs left out are counted.
func TestTeamsCardStaysUnderTheSizeLimit(t *testing.T) {
	for _, n := range []int{20, 60} {
		b, _ := json.Marshal(teamsBody(longMessage(n)))
		if len(b) > teamsMaxBody {
			t.Errorf("%d IOCs: card is %d bytes, over %d", n, len(b), teamsMaxBody)
		}
		if n == 60 && !strings.Contains(string(b), "more IOCs in the full result") {
			t.Error("the IOCs left out are not counted")
		}
	}
}

// Slack rejects a whole message with a field over 2,000 characters, a
// section over 3,000 or more than 50 blocks.
func TestSlackFieldsWithinLimits(t *testing.T) {
	m := longDelivery()
	msg := slackBody(m)
	if len(msg.Blocks) > slackMaxBlocks {
		t.Errorf("%d blocks", len(msg.Blocks))
	}
	for _, b := range msg.Blocks {
		for _, f := range b.Fields {
			if n := len([]rune(f.Text)); n > slackFieldMax {
				t.Errorf("a field of %d characters: %.80s…", n, f.Text)
			}
		}
		if b.Text != nil && len([]rune(b.Text.Text)) > slackSectionMax {
			t.Errorf("a %s text of %d characters", b.Type, len([]rune(b.Text.Text)))
		}
	}
	var entries []Entry
	for range 30 {
		entries = append(entries, entryOf(m, newClock().Now()))
	}
	for _, b := range slackDigestBody(Digest{Entries: entries, Part: 1, Parts: 1, Held: 30}).Blocks {
		if b.Text != nil && len([]rune(b.Text.Text)) > slackSectionMax {
			t.Errorf("digest: a %s text of %d characters", b.Type, len([]rune(b.Text.Text)))
		}
	}
}

// A digest part that Teams needs split further is numbered piece by
// piece, not "part 1 of 5" on every message.
func TestTeamsDigestPiecesNumbered(t *testing.T) {
	clock := newClock()
	h := newHook(t, clock)
	m := longDelivery()
	m.Alert.Link = "https://splunk.example.com/" + strings.Repeat("y", 900) // kept as a link: big entries
	var entries []Entry
	for i := range 100 {
		e := entryOf(m, clock.Now())
		e.Alert.ID = fmt.Sprintf("alert-%03d", i)
		entries = append(entries, e)
	}
	tr := teamsTransport{poster{client: http.DefaultClient, url: provider.NewSecret(h.URL), now: clock.Now}}
	if err := tr.sendDigest(context.Background(), Digest{Entries: entries, Part: 1, Parts: 5, Held: 500}); err != nil {
		t.Fatal(err)
	}
	reqs := h.requests()
	if len(reqs) < 2 {
		t.Fatalf("%d messages; want the part split", len(reqs))
	}
	seen := map[string]bool{}
	for i, r := range reqs {
		if len(r.Body) > teamsMaxBody {
			t.Errorf("piece %d is %d bytes", i+1, len(r.Body))
		}
		want := fmt.Sprintf("(part 1.%d of 5)", i+1)
		if !strings.Contains(string(r.Body), want) || seen[want] {
			t.Errorf("piece %d lacks %q", i+1, want)
		}
		seen[want] = true
	}
}
