// Package thehive writes enrichment back to the TheHive 5 alert a job came
// from: each enriched IOC becomes an observable of the alert (or of the
// case it was promoted to), tagged iocane:<verdict>, carrying the TLP, with
// the score and reasons in its message; one comment adds the verdict table.
// README.md documents the API calls and where their bodies come from.
package thehive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the sink's config name.
const Name = "thehive"

func init() {
	integrations.Register(integrations.SinkSpec{
		Name: Name, Required: []string{"base_url", "api_key"}, Secrets: []string{"api_key"},
		Optional: map[string]string{"organisation": "", "pap": "2"}, URLs: []string{"base_url"},
		New: func(s integrations.Settings, env integrations.Env) (integrations.Sink, error) {
			pap, err := strconv.Atoi(s.Get("pap"))
			if err != nil || pap < 0 || pap > 3 {
				return nil, fmt.Errorf("pap: want 0 (clear) to 3 (red), got %q", s.Get("pap"))
			}
			return &Sink{
				base: strings.TrimRight(s.Get("base_url"), "/"), key: s.Secret("api_key"), org: s.Get("organisation"), pap: pap,
				client: integrations.NewHTTPClient(Name, env.Timeout, env.Transport),
			}, nil
		},
	})
}

// Sink is the TheHive write-back.
type Sink struct {
	base   string
	key    provider.Secret
	org    string
	pap    int
	client *http.Client
}

var _ integrations.Sink = (*Sink)(nil)

// New returns a sink for TheHive at base (e.g. https://thehive.example.org)
// with an API key; client nil means the integrations HTTP client.
func New(base string, key provider.Secret, client *http.Client) *Sink {
	if client == nil {
		client = integrations.NewHTTPClient(Name, 0, nil)
	}
	return &Sink{base: strings.TrimRight(base, "/"), key: key, pap: 2, client: client}
}

// Name implements integrations.Sink.
func (*Sink) Name() string { return Name }

// Applies is true for a job from a TheHive alert that has results.
func (*Sink) Applies(d integrations.Delivery) bool {
	a := d.Job.Alert
	return a != nil && a.System == Name && a.ID != "" && len(d.Results) > 0
}

// Deliver adds the observables and the comment. Each step is recorded in
// the delivery's Progress, so a retry resumes after the last that landed.
func (s *Sink) Deliver(ctx context.Context, d integrations.Delivery) error {
	target, err := integrations.Step(ctx, "target", func() (string, error) { return s.target(ctx, d.Job.Alert.ID) })
	if err != nil {
		return err
	}
	for _, r := range integrations.Sorted(d.Results) {
		step := "observable:" + string(r.IOC.Type) + ":" + r.IOC.Value
		if _, err := integrations.Step(ctx, step, func() (string, error) { return s.observable(ctx, target, r) }); err != nil {
			return err
		}
	}
	_, err = integrations.Step(ctx, "comment", func() (string, error) {
		var out struct {
			ID string `json:"_id"`
		}
		resp, err := s.call(ctx, http.MethodPost, target+"/comment", Comment{Message: integrations.VerdictTable(d)})
		if err != nil {
			return "", err
		}
		_ = json.Unmarshal(resp.Body, &out)
		return out.ID, nil
	})
	return err
}

// target returns the API path observables and the comment go to:
// "/api/v1/alert/<id>", or "/api/v1/case/<caseId>" once the alert has been
// imported into a case (TheHive then shows the case, not the alert).
func (s *Sink) target(ctx context.Context, alertID string) (string, error) {
	seg, err := segment("alert", alertID)
	if err != nil {
		return "", err
	}
	path := "/api/v1/alert/" + seg
	resp, err := s.call(ctx, http.MethodGet, path, nil)
	if err != nil {
		return "", err
	}
	var a struct {
		CaseID string `json:"caseId"`
	}
	if err := provider.DecodeJSON(resp.Body, &a); err != nil {
		return "", fmt.Errorf("thehive: alert %s: %w", alertID, err)
	}
	if a.CaseID != "" {
		seg, err := segment("case", a.CaseID)
		if err != nil {
			return "", err
		}
		return "/api/v1/case/" + seg, nil
	}
	return path, nil
}

// segment returns id escaped as one path segment, or a permanent error for
// an id that is no id: empty, a dot segment ("." or "..", which a server
// would resolve to another path), too long, or holding control characters.
// Ids come from alerts, which anyone who can reach the webhook writes.
func segment(kind, id string) (string, error) {
	bad := id == "" || id == "." || id == ".." || len(id) > 256 ||
		strings.ContainsFunc(id, func(r rune) bool { return r < ' ' || r == 0x7f })
	if bad {
		return "", integrations.Permanent(fmt.Errorf("thehive: %s id %q is not a valid id", kind, provider.Excerpt([]byte(id), 64)))
	}
	return url.PathEscape(id), nil
}

// Observable is TheHive 5's InputObservable, as iocane fills it.
type Observable struct {
	DataType string   `json:"dataType"`
	Data     string   `json:"data"`
	Message  string   `json:"message"`
	TLP      int      `json:"tlp"`
	PAP      int      `json:"pap"`
	Tags     []string `json:"tags"`
	IOC      bool     `json:"ioc"`
}

// Comment is TheHive 5's InputComment.
type Comment struct {
	Message string `json:"message"`
}

func (s *Sink) observable(ctx context.Context, target string, r result.Result) (string, error) {
	resp, err := s.call(ctx, http.MethodPost, target+"/observable", ObservableOf(r, s.pap))
	if err != nil {
		// An observable with this data is already on the alert: it was
		// there before (from the SIEM), or an earlier attempt landed and
		// its answer was lost. Either way it is not added twice.
		var se *integrations.StatusError
		if errors.As(err, &se) && se.Code == http.StatusBadRequest && strings.Contains(strings.ToLower(se.Body), "already exist") {
			return "exists", nil
		}
		return "", err
	}
	var out []struct {
		ID string `json:"_id"`
	}
	if json.Unmarshal(resp.Body, &out) == nil && len(out) > 0 {
		return out[0].ID, nil
	}
	return "created", nil
}

// ObservableOf maps a result to an observable: dataType from the IOC
// type, tag iocane:<verdict>, TheHive's TLP number, the score and reasons
// in the message, and ioc true for a malicious verdict.
func ObservableOf(r result.Result, pap int) Observable {
	var msg strings.Builder
	fmt.Fprintf(&msg, "iocane: %s, score %d/100, confidence %d/100", r.Verdict, r.Score, r.Confidence)
	for _, reason := range r.Reasons {
		msg.WriteString("\n- " + reason)
	}
	return Observable{
		DataType: DataType(r.IOC.Type), Data: r.IOC.Value, Message: msg.String(), TLP: TLP(r.TLP), PAP: pap,
		Tags: []string{"iocane:" + string(r.Verdict)}, IOC: r.Verdict == result.Malicious,
	}
}

// DataType maps an IOC type to one of TheHive's default observable types.
func DataType(t ioc.Type) string {
	switch t {
	case ioc.IPv4, ioc.IPv6:
		return "ip"
	case ioc.Domain:
		return "domain"
	case ioc.URL:
		return "url"
	case ioc.Email:
		return "mail"
	case ioc.MD5, ioc.SHA1, ioc.SHA256, ioc.SHA512:
		return "hash"
	case ioc.ASN:
		return "autonomous-system"
	}
	return "other"
}

// TLP maps a TLP 2.0 level to TheHive's number: 0 clear (white), 1 green,
// 2 amber, 3 red, 4 amber+strict.
func TLP(l tlp.Level) int {
	switch l {
	case tlp.Clear:
		return 0
	case tlp.Green:
		return 1
	case tlp.Amber:
		return 2
	case tlp.AmberStrict:
		return 4
	}
	return 3
}

func (s *Sink) call(ctx context.Context, method, path string, body any) (*provider.Response, error) {
	h := http.Header{"Authorization": {"Bearer " + s.key.Reveal()}}
	if s.org != "" {
		h.Set("X-Organisation", s.org)
	}
	return integrations.Call(ctx, s.client, Name, integrations.Request{Method: method, URL: s.base + path, Header: h, JSON: body}, s.key)
}
