package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/ratelimit"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// testConfig is a Config with the given channels pointing at hooks.
func testConfig(rules []Rule, slack, teams, webhook *hook) Config {
	c := Config{Rules: rules, DigestSize: DefaultDigestSize, MaxIOCs: DefaultMaxIOCs, DedupeSize: 100, DedupeTTL: time.Hour}
	rate := ratelimit.Rate{N: 10, Per: time.Minute}
	if slack != nil {
		c.Slack = &WebhookChannel{URL: provider.NewSecret(slack.URL + "/services/T0001/B0001/slacktokenXYZ"), Rate: rate}
	}
	if teams != nil {
		c.Teams = &WebhookChannel{URL: provider.NewSecret(teams.URL + "/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=teamsSIGxyz"), Rate: rate}
	}
	if webhook != nil {
		c.Webhook = &WebhookChannel{URL: provider.NewSecret(webhook.URL + "/hook?token=hookTOKEN"), Secret: provider.NewSecret("hmac-secret-value"), Rate: rate}
	}
	return c
}

func mustNew(t *testing.T, c Config, clock *fakeClock) *Set {
	t.Helper()
	s, err := New(c, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// golden compares got (JSON) with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("%s: not JSON: %v", name, err)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, buf.Bytes(), want)
	}
}

func TestSlackAndTeamsBodies(t *testing.T) {
	clock := newClock()
	slack, teams := newHook(t, clock), newHook(t, clock)
	teams.setAnswer(http.StatusAccepted, "")
	s := mustNew(t, testConfig([]Rule{{Channel: Slack, MinVerdict: result.Malicious}, {Channel: Teams, MinVerdict: result.Malicious}}, slack, teams, nil), clock)
	d := maliciousDelivery()
	for _, sink := range s.Sinks() {
		if !sink.Applies(d) {
			t.Fatalf("%s: does not apply to a malicious alert", sink.Name())
		}
		if err := sink.Deliver(context.Background(), d); err != nil {
			t.Fatalf("%s: %v", sink.Name(), err)
		}
	}
	for _, tc := range []struct {
		name string
		h    *hook
		path string
	}{{"slack_malicious.json", slack, "/services/T0001/B0001/slacktokenXYZ"}, {"teams_malicious.json", teams, "/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=teamsSIGxyz"}} {
		reqs := tc.h.requests()
		if len(reqs) != 1 {
			t.Fatalf("%s: %d requests, want 1", tc.name, len(reqs))
		}
		if reqs[0].Path != tc.path || reqs[0].Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: posted to %q with %q", tc.name, reqs[0].Path, reqs[0].Header.Get("Content-Type"))
		}
		golden(t, tc.name, reqs[0].Body)
	}

	// The structure, asserted beside the golden files.
	var sm struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type     string            `json:"type"`
			Text     map[string]any    `json:"text"`
			Elements []json.RawMessage `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(slack.requests()[0].Body, &sm); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, b := range sm.Blocks {
		types = append(types, b.Type)
	}
	if want := []string{"header", "section", "divider", "section", "section", "context", "actions"}; !slices.Equal(types, want) {
		t.Errorf("slack blocks %v, want %v", types, want)
	}
	first := sm.Blocks[3].Text["text"].(string)
	for _, want := range []string{"*malicious* · score 95 · url `hxxp[://]evil[.]example[.]org/payload[.]exe`", "&lt;Emotet&gt; &amp; loader", "<https://urlhaus.abuse.ch/url/2890234/|urlhaus>"} {
		if !strings.Contains(first, want) {
			t.Errorf("slack first IOC section lacks %q:\n%s", want, first)
		}
	}
	var button struct{ Type, URL string }
	if len(sm.Blocks[6].Elements) != 1 || json.Unmarshal(sm.Blocks[6].Elements[0], &button) != nil ||
		button.Type != "button" || button.URL != "https://iocane.example.com/v1/jobs/job-0001/results" {
		t.Errorf("slack actions: want exactly one link button to the result, got %s", sm.Blocks[6].Elements)
	}
	second := sm.Blocks[4].Text["text"].(string)
	if strings.Contains(second, "otx: in 41 pulses") || !strings.Contains(second, "greynoise") {
		t.Errorf("slack shows other than the top three reasons:\n%s", second)
	}
	for _, b := range [][]byte{slack.requests()[0].Body, teams.requests()[0].Body} {
		body := string(b)
		for _, bad := range []string{"update-check", "275a021b", "Action.Submit", "Action.Execute", "Action.Http", "quarantine", "isolate"} {
			if strings.Contains(strings.ToLower(body), strings.ToLower(bad)) {
				t.Errorf("message contains %q (below threshold or an action)", bad)
			}
		}
	}
	var tm struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string  `json:"contentType"`
			ContentURL  *string `json:"contentUrl"`
			Content     struct {
				Type    string `json:"type"`
				Version string `json:"version"`
				Body    []struct {
					Type string `json:"type"`
				} `json:"body"`
				Actions []struct {
					Type, Title, URL string
				} `json:"actions"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(teams.requests()[0].Body, &tm); err != nil {
		t.Fatal(err)
	}
	if tm.Type != "message" || len(tm.Attachments) != 1 || tm.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" ||
		tm.Attachments[0].Content.Type != "AdaptiveCard" || !bytes.Contains(teams.requests()[0].Body, []byte(`"contentUrl":null`)) {
		t.Errorf("teams envelope wrong: %+v", tm)
	}
	var bodyTypes []string
	for _, b := range tm.Attachments[0].Content.Body {
		bodyTypes = append(bodyTypes, b.Type)
	}
	if want := []string{"TextBlock", "FactSet", "Container", "Container", "TextBlock"}; !slices.Equal(bodyTypes, want) {
		t.Errorf("teams body %v, want %v", bodyTypes, want)
	}
	if a := tm.Attachments[0].Content.Actions; len(a) != 1 || a[0].Type != "Action.OpenUrl" || a[0].URL != "https://iocane.example.com/v1/jobs/job-0001/results" {
		t.Errorf("teams actions %+v, want one OpenUrl to the result", a)
	}
}

func TestBenignOnlySendsNothing(t *testing.T) {
	clock := newClock()
	slack, teams, wh := newHook(t, clock), newHook(t, clock), newHook(t, clock)
	s := mustNew(t, testConfig(nil, slack, teams, wh), clock) // no rules: default rule per channel
	for _, n := range s.Notifiers() {
		n.rules = []Rule{{Channel: n.channel, MinVerdict: result.Malicious}}
		if n.Applies(benignDelivery()) {
			t.Errorf("%s applies to a benign-only alert", n.Name())
		}
		if err := n.Deliver(context.Background(), benignDelivery()); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range []*hook{slack, teams, wh} {
		if n := len(h.requests()); n != 0 {
			t.Errorf("%d requests for a benign-only alert", n)
		}
	}
}

func TestRules(t *testing.T) {
	d := maliciousDelivery()
	values := func(rules []Rule) []string {
		m, ok := build(d, rules, 20, DefaultMaxTLP)
		if !ok {
			return nil
		}
		var out []string
		for _, it := range m.IOCs {
			out = append(out, it.Value)
		}
		return out
	}
	const ip, url, dom = "185.220.101.47", "http://evil.example.org/payload.exe", "update-check.example.net"
	for _, tc := range []struct {
		name  string
		rules []Rule
		want  []string
	}{
		{"default malicious", []Rule{{MinVerdict: result.Malicious}}, []string{url, ip}},
		{"suspicious and up", []Rule{{MinVerdict: result.Suspicious}}, []string{url, ip, dom}},
		{"type filter", []Rule{{MinVerdict: result.Malicious, Types: []ioc.Type{ioc.IPv4}}}, []string{ip}},
		{"type filter, nothing", []Rule{{MinVerdict: result.Malicious, Types: []ioc.Type{ioc.SHA256}}}, nil},
		{"source match", []Rule{{MinVerdict: result.Malicious, Sources: []string{"elastic", "splunk"}}}, []string{url, ip}},
		{"source mismatch", []Rule{{MinVerdict: result.Malicious, Sources: []string{"thehive"}}}, nil},
		{"two rules, union", []Rule{{MinVerdict: result.Malicious, Types: []ioc.Type{ioc.URL}}, {MinVerdict: result.Suspicious, Types: []ioc.Type{ioc.Domain}}}, []string{url, dom}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := values(tc.rules); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	// Through a sink: a source filter keeps a channel silent.
	clock := newClock()
	slack := newHook(t, clock)
	s := mustNew(t, testConfig([]Rule{{Channel: Slack, MinVerdict: result.Malicious, Sources: []string{"thehive"}}}, slack, nil, nil), clock)
	if s.Sinks()[0].Applies(d) {
		t.Error("a thehive-only rule applies to a splunk alert")
	}
	_ = s.Sinks()[0].Deliver(context.Background(), d)
	if n := len(slack.requests()); n != 0 {
		t.Errorf("%d messages for a filtered-out alert", n)
	}
}

func TestDedupe(t *testing.T) {
	clock := newClock()
	slack := newHook(t, clock)
	s := mustNew(t, testConfig([]Rule{{Channel: Slack, MinVerdict: result.Malicious}}, slack, nil, nil), clock)
	n := s.Notifiers()[0]
	d := maliciousDelivery()
	for range 3 {
		if err := n.Deliver(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
	}
	again := d
	again.Job.ID = "job-0002" // a second job for the same alert (resubmitted)
	if err := n.Deliver(context.Background(), again); err != nil {
		t.Fatal(err)
	}
	if got := len(slack.requests()); got != 1 {
		t.Fatalf("%d messages for one alert delivered four times, want 1", got)
	}

	// A failed send is not remembered: the Dispatcher's retry goes out.
	other := alertDelivery("splunk", "retry-me")
	slack.setAnswer(http.StatusServiceUnavailable, "busy")
	err := n.Deliver(context.Background(), other)
	if err == nil || errors.Is(err, ErrPermanent) {
		t.Fatalf("503: got %v, want a retryable error", err)
	}
	slack.setAnswer(http.StatusOK, "ok")
	if err := n.Deliver(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if got := len(slack.requests()); got != 3 {
		t.Fatalf("%d requests, want 3 (one, the failed one, its retry)", got)
	}

	// After the TTL the alert is forgotten (bounded memory).
	clock.Advance(2 * time.Hour)
	if err := n.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if got := len(slack.requests()); got != 4 {
		t.Fatalf("%d requests after the TTL, want 4", got)
	}
}

func TestSeenIsBounded(t *testing.T) {
	s := newSeen(3, time.Hour)
	now := newClock().Now()
	for _, k := range []string{"a", "b", "c", "d"} {
		s.add(k, now)
	}
	if s.len() != 3 || s.has("a", now) || !s.has("d", now) {
		t.Fatalf("LRU holds %d, has a=%v d=%v", s.len(), s.has("a", now), s.has("d", now))
	}
}

func TestPermanentErrors(t *testing.T) {
	clock := newClock()
	slack := newHook(t, clock)
	s := mustNew(t, testConfig([]Rule{{Channel: Slack, MinVerdict: result.Malicious}}, slack, nil, nil), clock)
	for code, perm := range map[int]bool{400: true, 403: true, 404: true, 410: true, 429: false, 500: false, 503: false} {
		slack.setAnswer(code, "x")
		err := s.Sinks()[0].Deliver(context.Background(), alertDelivery("splunk", "perm-"+http.StatusText(code)))
		if err == nil || errors.Is(err, ErrPermanent) != perm {
			t.Errorf("http %d: %v, permanent=%v want %v", code, err, errors.Is(err, ErrPermanent), perm)
		}
		var he *HTTPError
		if !errors.As(err, &he) || he.Code != code {
			t.Errorf("http %d: no HTTPError in %v", code, err)
		}
	}
}

func TestWebhookSigned(t *testing.T) {
	clock := newClock()
	wh := newHook(t, clock)
	s := mustNew(t, testConfig([]Rule{{Channel: Webhook, MinVerdict: result.Malicious}}, nil, nil, wh), clock)
	if s.Sinks()[0].Name() != "notify_webhook" {
		t.Errorf("sink name %q", s.Sinks()[0].Name())
	}
	if err := s.Sinks()[0].Deliver(context.Background(), maliciousDelivery()); err != nil {
		t.Fatal(err)
	}
	r := wh.requests()[0]
	var m WebhookMessage
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != "iocane.notification" || m.Alert.Name != "Outbound connection to Tor exit node" || len(m.IOCs) != 2 || m.IOCs[0].Score != 95 ||
		len(m.IOCs[1].Reasons) != 3 || len(m.IOCs[1].Links) != 2 || m.Link == "" {
		t.Errorf("webhook body: %s", r.Body)
	}
	ts := r.Header.Get(HeaderTimestamp)
	if ts != strconv.FormatInt(clock.Now().Unix(), 10) {
		t.Errorf("timestamp %q", ts)
	}
	if sig := r.Header.Get(HeaderSignature); sig != "sha256="+hmacHex("hmac-secret-value", ts+"."+string(r.Body)) {
		t.Errorf("signature %q does not verify", sig)
	}
}

func TestDefang(t *testing.T) {
	for _, tc := range []struct {
		t       ioc.Type
		in, out string
	}{
		{ioc.URL, "https://evil.example/a.php?x=1", "hxxps[://]evil[.]example/a[.]php?x=1"},
		{ioc.Domain, "evil.example", "evil[.]example"},
		{ioc.IPv4, "1.2.3.4", "1[.]2[.]3[.]4"},
		{ioc.Email, "a.b@evil.example", "a[.]b[@]evil[.]example"},
		{ioc.IPv6, "2001:db8::1", "2001[:]db8[:][:]1"},
		{ioc.SHA256, "abc", "abc"},
	} {
		if got := Defang(tc.t, tc.in); got != tc.out {
			t.Errorf("Defang(%s, %q) = %q, want %q", tc.t, tc.in, got, tc.out)
		}
	}
}

var _ integrations.Sink = (*Notifier)(nil)

// An alert link that is not http(s) (javascript:, data:) is dropped: it
// reaches no Slack, Teams or e-mail message.
func TestNonHTTPAlertLinkIsNotRendered(t *testing.T) {
	for _, link := range []string{"javascript:alert(document.cookie)", "data:text/html,<script>x</script>", "JAVASCRIPT:alert(1)"} {
		d := maliciousDelivery()
		d.Job.Alert.Link = link
		m, ok := build(d, []Rule{{Channel: Slack, MinVerdict: result.Malicious}}, 20, DefaultMaxTLP)
		if !ok {
			t.Fatal("no message")
		}
		if m.Alert.Link != "" {
			t.Errorf("%q kept as the alert link", link)
		}
		slack, _ := json.Marshal(slackBody(m))
		teams, _ := json.Marshal(teamsBody(m))
		for name, b := range map[string][]byte{"slack": slack, "teams": teams} {
			if bytes.Contains(bytes.ToLower(b), []byte("javascript:")) || bytes.Contains(b, []byte("data:text")) {
				t.Errorf("%s message carries %q: %s", name, link, b)
			}
		}
	}
	m, _ := build(maliciousDelivery(), []Rule{{Channel: Slack, MinVerdict: result.Malicious}}, 20, DefaultMaxTLP)
	if m.Alert.Link == "" {
		t.Error("an https alert link was dropped")
	}
}

// TestTLPRedIsWithheld: an IOC marked stricter than a channel's max_tlp
// (default amber) reaches no Slack, Teams or webhook message; the message
// says how many were withheld instead, and a channel whose max_tlp allows
// it shows it.
func TestTLPRedIsWithheld(t *testing.T) {
	clock := newClock()
	slack, teams, generic := newHook(t, clock), newHook(t, clock), newHook(t, clock)
	rules := []Rule{{Channel: Slack, MinVerdict: result.Malicious}, {Channel: Teams, MinVerdict: result.Malicious}, {Channel: Webhook, MinVerdict: result.Malicious}}
	c := testConfig(rules, slack, teams, generic)
	c.Slack.MaxTLP, c.Teams.MaxTLP, c.Webhook.MaxTLP = DefaultMaxTLP, DefaultMaxTLP, tlp.Red
	s := mustNew(t, c, clock)

	d := maliciousDelivery()
	d.Results[0].TLP = tlp.Red // 185.220.101.47
	d.Results = d.Results[:1]
	for _, sink := range s.Sinks() {
		if err := sink.Deliver(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	for name, h := range map[string]*hook{"slack": slack, "teams": teams} {
		reqs := h.requests()
		if len(reqs) != 1 {
			t.Fatalf("%s: %d messages, want 1 saying what was withheld", name, len(reqs))
		}
		body := string(reqs[0].Body)
		if strings.Contains(body, "185") {
			t.Errorf("%s: the TLP:RED IOC is in the message: %s", name, body)
		}
		if !strings.Contains(body, "1 TLP:RED indicator withheld: see the result") || !strings.Contains(body, d.Link) {
			t.Errorf("%s: the message does not say it was withheld, with the link: %s", name, body)
		}
	}
	if reqs := generic.requests(); len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), "185.220.101.47") {
		t.Errorf("the webhook allowed up to red did not get the IOC: %v", reqs)
	}
}

// An update notifies only of IOCs that a deferred answer raised to what a
// rule selects: one already selected when the job completed was notified
// then, and one that rose short of the threshold is not news.
func TestUpdateNotifiesOnlyWhatRose(t *testing.T) {
	d := maliciousDelivery()
	d.Update = true
	rules := []Rule{{MinVerdict: result.Malicious}}
	if _, ok := build(d, rules, 20, DefaultMaxTLP); ok {
		t.Error("an update without a revised result notifies")
	}
	var rose, stayed int = -1, -1
	for n, r := range d.Results {
		switch {
		case r.Verdict == result.Malicious && rose < 0:
			rose = n
			d.Results[n].Revised = &result.Revision{Verdict: result.Unknown, Score: 20}
		case r.Verdict == result.Malicious:
			stayed = n
			d.Results[n].Revised = &result.Revision{Verdict: result.Malicious, Score: 80}
		}
	}
	if rose < 0 || stayed < 0 {
		t.Fatal("the delivery needs two malicious results")
	}
	m, ok := build(d, rules, 20, DefaultMaxTLP)
	if !ok || len(m.IOCs) != 1 || m.IOCs[0].Value != d.Results[rose].IOC.Value {
		t.Fatalf("update notifies %+v, want only %s", m.IOCs, d.Results[rose].IOC.Value)
	}
	if !strings.HasSuffix(m.Alert.Key, "#update") {
		t.Errorf("update keyed %q: the first notification's dedupe would swallow it", m.Alert.Key)
	}
	// Rose to suspicious under a malicious rule: nothing.
	d.Results[rose].Verdict = result.Suspicious
	if m, ok := build(d, rules, 20, DefaultMaxTLP); ok {
		t.Errorf("a rise short of the threshold notifies %+v", m.IOCs)
	}
}
