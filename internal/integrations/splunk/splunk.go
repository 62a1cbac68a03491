// Package splunk sends each enriched IOC of a Splunk alert to Splunk's
// HTTP Event Collector as one event (sourcetype iocane:enrichment) that
// carries the alert's sid and search_name, so a search can join the
// enrichment to the notable or alert. README.md documents the format.
package splunk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
)

// Name is the sink's config name.
const Name = "splunk"

// Defaults.
const (
	DefaultSourcetype = "iocane:enrichment"
	DefaultSource     = "iocane"
	// BatchSize is the events per HEC request.
	BatchSize = 100
)

func init() {
	integrations.Register(integrations.SinkSpec{
		Name: Name, Required: []string{"hec_url", "token"}, Secrets: []string{"token"},
		Optional: map[string]string{"index": "", "sourcetype": DefaultSourcetype, "source": DefaultSource, "scope": "splunk"},
		URLs:     []string{"hec_url"},
		New: func(s integrations.Settings, env integrations.Env) (integrations.Sink, error) {
			sk := New(s.Get("hec_url"), s.Secret("token"), integrations.NewHTTPClient(Name, env.Timeout, env.Transport))
			sk.Index, sk.Sourcetype, sk.Source = s.Get("index"), s.Get("sourcetype"), s.Get("source")
			switch s.Get("scope") {
			case "splunk":
			case "all":
				sk.All = true
			default:
				return nil, fmt.Errorf("scope: want splunk (alerts from Splunk) or all (every job), got %q", s.Get("scope"))
			}
			return sk, nil
		},
	})
}

// Sink is the HEC write-back.
type Sink struct {
	url    string
	token  provider.Secret
	client *http.Client
	// Index is the target index; "" leaves the token's default.
	Index string
	// Sourcetype defaults to iocane:enrichment, Source to iocane.
	Sourcetype, Source string
	// All sends every job's results, not only Splunk alerts'.
	All bool
}

var _ integrations.Sink = (*Sink)(nil)

// New returns a sink for the HEC at hecURL: a base such as
// https://splunk.example.org:8088 (the event endpoint is appended) or the
// full .../services/collector/event URL.
func New(hecURL string, token provider.Secret, client *http.Client) *Sink {
	u := strings.TrimRight(hecURL, "/")
	if !strings.Contains(u, "/services/collector") {
		u += "/services/collector/event"
	}
	if client == nil {
		client = integrations.NewHTTPClient(Name, 0, nil)
	}
	return &Sink{url: u, token: token, client: client, Sourcetype: DefaultSourcetype, Source: DefaultSource}
}

// Name implements integrations.Sink.
func (*Sink) Name() string { return Name }

// Applies is true for a job from a Splunk alert with results (any job
// with results when All is set).
func (s *Sink) Applies(d integrations.Delivery) bool {
	if len(d.Results) == 0 {
		return false
	}
	return s.All || (d.Job.Alert != nil && d.Job.Alert.System == Name)
}

// Event is one HEC event (the envelope HEC's /services/collector/event
// documents: time, host, source, sourcetype, index, event, fields).
type Event struct {
	Time       float64           `json:"time"`
	Source     string            `json:"source,omitempty"`
	Sourcetype string            `json:"sourcetype,omitempty"`
	Index      string            `json:"index,omitempty"`
	Event      Enrichment        `json:"event"`
	Fields     map[string]string `json:"fields,omitempty"`
}

// Enrichment is an event's body.
type Enrichment struct {
	SID          string          `json:"sid,omitempty"`
	SearchName   string          `json:"search_name,omitempty"`
	AlertSystem  string          `json:"alert_system,omitempty"`
	AlertID      string          `json:"alert_id,omitempty"`
	JobID        string          `json:"job_id"`
	IOCType      string          `json:"ioc_type"`
	IOC          string          `json:"ioc"`
	Verdict      result.Verdict  `json:"verdict"`
	Score        int             `json:"score"`
	Confidence   int             `json:"confidence"`
	DBotScore    int             `json:"dbot_score"`
	TLP          string          `json:"tlp"`
	Reasons      []string        `json:"reasons"`
	Sources      []SourceSummary `json:"sources,omitempty"`
	ResultLink   string          `json:"result_link,omitempty"`
	EnrichedTime string          `json:"enriched_at,omitempty"`
}

// SourceSummary is one provider's part, without its raw data.
type SourceSummary struct {
	Provider string `json:"provider"`
	Status   string `json:"status"`
	Summary  string `json:"summary,omitempty"`
	Link     string `json:"link,omitempty"`
}

// Events returns d's events, worst verdict first.
func (s *Sink) Events(d integrations.Delivery) []Event {
	var sid, search string
	if a := d.Job.Alert; a != nil && a.System == Name {
		sid, search = a.ID, a.Extra["search_name"]
	}
	var out []Event
	for _, r := range integrations.Sorted(d.Results) {
		e := Enrichment{
			SID: sid, SearchName: search, JobID: d.Job.ID, IOCType: string(r.IOC.Type), IOC: r.IOC.Value,
			Verdict: r.Verdict, Score: r.Score, Confidence: r.Confidence, DBotScore: r.DBotScore, TLP: r.TLP.String(),
			Reasons: r.Reasons, ResultLink: d.Link,
		}
		if e.Reasons == nil {
			e.Reasons = []string{}
		}
		if a := d.Job.Alert; a != nil {
			e.AlertSystem, e.AlertID = a.System, a.ID
		}
		if !r.EnrichedAt.IsZero() {
			e.EnrichedTime = r.EnrichedAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		for _, src := range r.Sources {
			e.Sources = append(e.Sources, SourceSummary{Provider: src.Provider, Status: src.Status, Summary: src.Summary, Link: src.Link})
		}
		at := d.Job.FinishedAt
		if !r.EnrichedAt.IsZero() {
			at = r.EnrichedAt
		}
		fields := map[string]string{"verdict": string(r.Verdict), "ioc": r.IOC.Value, "ioc_type": string(r.IOC.Type), "job_id": d.Job.ID}
		if sid != "" {
			fields["sid"] = sid
		}
		if search != "" {
			fields["search_name"] = search
		}
		out = append(out, Event{
			Time: float64(at.UnixMilli()) / 1000, Source: s.Source, Sourcetype: s.Sourcetype, Index: s.Index, Event: e, Fields: fields,
		})
	}
	return out
}

// Deliver posts the events, BatchSize per request (concatenated JSON
// objects in one body, as HEC accepts). Each batch is a recorded step.
func (s *Sink) Deliver(ctx context.Context, d integrations.Delivery) error {
	evs := s.Events(d)
	for i := 0; i < len(evs); i += BatchSize {
		batch := evs[i:min(i+BatchSize, len(evs))]
		_, err := integrations.Step(ctx, "batch:"+strconv.Itoa(i/BatchSize), func() (string, error) {
			var body bytes.Buffer
			enc := json.NewEncoder(&body)
			for _, e := range batch {
				if err := enc.Encode(e); err != nil {
					return "", integrations.Permanent(fmt.Errorf("splunk: %w", err))
				}
			}
			h := http.Header{"Authorization": {"Splunk " + s.token.Reveal()}}
			_, err := integrations.Call(ctx, s.client, Name,
				integrations.Request{Method: http.MethodPost, URL: s.url, Header: h, Body: body.Bytes()}, s.token)
			return strconv.Itoa(len(batch)), err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
