// Package webhook POSTs each completed job's result JSON (the job and its
// results) to a configured URL, signed with HMAC-SHA256 like iocane's own
// webhook intake, so any system can take the enrichment.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/jobs"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// Name is the sink's config name.
const Name = "webhook"

// Headers, as the intake names them (internal/server).
const (
	HeaderTimestamp = "X-Iocane-Timestamp"
	HeaderSignature = "X-Iocane-Signature"
)

func init() {
	integrations.Register(integrations.SinkSpec{
		Name: Name, Required: []string{"url"}, Secrets: []string{"url", "signing_secret"},
		Optional: map[string]string{"scope": "alerts", "max_tlp": "amber"},
		New: func(s integrations.Settings, env integrations.Env) (integrations.Sink, error) {
			sk := New(s.Secret("url"), s.Secret("signing_secret"), integrations.NewHTTPClient(Name, env.Timeout, env.Transport))
			if v := s.Get("max_tlp"); v != "" {
				l, err := tlp.MustParse(v)
				if err != nil {
					return nil, fmt.Errorf("max_tlp: %w", err)
				}
				sk.MaxTLP = l
			}
			switch s.Get("scope") {
			case "alerts":
			case "all":
				sk.All = true
			default:
				return nil, fmt.Errorf("scope: want alerts (jobs from webhooks) or all (every job), got %q", s.Get("scope"))
			}
			return sk, nil
		},
	})
}

// Sink is the generic webhook write-back.
type Sink struct {
	url    provider.Secret // may carry a token in its path or query
	secret provider.Secret
	client *http.Client
	now    func() time.Time
	// All sends every job, not only jobs from alerts.
	All bool
	// MaxTLP is the strictest marking a result sent may carry (default
	// amber: the receiver is a third party); stricter ones are left out
	// and counted in Payload.Withheld.
	MaxTLP tlp.Level
}

var _ integrations.Sink = (*Sink)(nil)

// New returns a sink posting to url, signing with secret when set.
func New(url, secret provider.Secret, client *http.Client) *Sink {
	if client == nil {
		client = integrations.NewHTTPClient(Name, 0, nil)
	}
	return &Sink{url: url, secret: secret, client: client, now: time.Now, MaxTLP: tlp.Amber}
}

// Name implements integrations.Sink.
func (*Sink) Name() string { return Name }

// Applies is true for a job from an alert with results (any job with
// results when All is set).
func (s *Sink) Applies(d integrations.Delivery) bool {
	return len(d.Results) > 0 && (s.All || d.Job.Alert != nil)
}

// Payload is the body posted.
type Payload struct {
	Job     jobs.Job        `json:"job"`
	Results []result.Result `json:"results"`
	// Withheld counts the results left out for their TLP marking: they
	// are in the job's results on iocane, behind Link.
	Withheld int    `json:"withheld,omitempty"`
	Link     string `json:"link,omitempty"`
}

// Sign returns the signature header value for body sent at ts (Unix
// seconds): sha256=<hex of HMAC-SHA256(secret, ts + "." + body)>.
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Deliver posts the payload. Idempotency-Key is the job id, so a receiver
// can drop the copy a retry sends after a lost answer.
func (s *Sink) Deliver(ctx context.Context, d integrations.Delivery) error {
	p := Payload{Job: d.Job, Results: make([]result.Result, 0, len(d.Results)), Link: d.Link}
	for _, r := range d.Results {
		if s.MaxTLP.Allows(r.TLP) {
			p.Results = append(p.Results, r)
		} else {
			p.Withheld++
		}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return integrations.Permanent(fmt.Errorf("webhook: %w", err))
	}
	_, err = integrations.Step(ctx, "post", func() (string, error) {
		h := http.Header{"Idempotency-Key": {"iocane-job-" + d.Job.ID}}
		if !s.secret.IsZero() {
			ts := strconv.FormatInt(s.now().Unix(), 10)
			h.Set(HeaderTimestamp, ts)
			h.Set(HeaderSignature, Sign([]byte(s.secret.Reveal()), ts, body))
		}
		_, err := integrations.Call(ctx, s.client, Name, integrations.Request{Method: http.MethodPost, URL: s.url.Reveal(), Header: h, Body: body}, s.url, s.secret)
		return "", err
	})
	return err
}
