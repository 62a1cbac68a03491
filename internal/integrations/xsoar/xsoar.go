// Package xsoar writes a war-room entry with the verdict table to the
// Cortex XSOAR incident a job came from (POST /entry). The DBotScore
// context is not pushed: XSOAR fills DBotScore from the results of a
// reputation command, so an XSOAR playbook pulls it from iocane's
// POST /v1/enrich. README.md explains why and ships the playbook task.
package xsoar

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/provider"
)

// Name is the sink's config name.
const Name = "xsoar"

func init() {
	integrations.Register(integrations.SinkSpec{
		Name: Name, Required: []string{"base_url", "api_key"}, Secrets: []string{"api_key"},
		Optional: map[string]string{"api_key_id": ""}, URLs: []string{"base_url"},
		New: func(s integrations.Settings, env integrations.Env) (integrations.Sink, error) {
			sk := New(s.Get("base_url"), s.Secret("api_key"), integrations.NewHTTPClient(Name, env.Timeout, env.Transport))
			sk.KeyID = s.Get("api_key_id")
			return sk, nil
		},
	})
}

// Sink is the XSOAR write-back.
type Sink struct {
	base   string
	key    provider.Secret
	client *http.Client
	// KeyID is XSOAR 8's API key id (x-xdr-auth-id); "" for XSOAR 6.
	KeyID string
}

var _ integrations.Sink = (*Sink)(nil)

// New returns a sink for XSOAR at base: https://xsoar.example.org for
// XSOAR 6, https://api-<tenant>/xsoar/public/v1 for XSOAR 8.
func New(base string, key provider.Secret, client *http.Client) *Sink {
	if client == nil {
		client = integrations.NewHTTPClient(Name, 0, nil)
	}
	return &Sink{base: strings.TrimRight(base, "/"), key: key, client: client}
}

// Name implements integrations.Sink.
func (*Sink) Name() string { return Name }

// IncidentID returns the XSOAR incident of d's alert: the alert reference's
// incident_id (generic webhook: ?incident_id= or an "incident_id" member),
// or the id of an alert from system xsoar.
func IncidentID(d integrations.Delivery) string {
	a := d.Job.Alert
	if a == nil {
		return ""
	}
	if v := a.Extra["incident_id"]; v != "" {
		return v
	}
	if a.System == Name {
		return a.ID
	}
	return ""
}

// Applies is true for an alert with an XSOAR incident id and results.
func (*Sink) Applies(d integrations.Delivery) bool { return IncidentID(d) != "" && len(d.Results) > 0 }

// Entry is the body of POST /entry. It has no tags: XSOAR drops a "tags"
// member there; they are set with POST /entry/tags (EntryTags).
type Entry struct {
	InvestigationID string `json:"investigationId"`
	Data            string `json:"data"`
	Markdown        bool   `json:"markdown"`
}

// EntryTags is the body of POST /entry/tags. Version -1 overrides XSOAR's
// optimistic lock, which otherwise refuses to tag a just-created entry.
type EntryTags struct {
	ID              string   `json:"id"`
	InvestigationID string   `json:"investigationId"`
	Tags            []string `json:"tags"`
	Version         int      `json:"version"`
}

// Deliver adds one markdown entry to the incident's war room and tags it
// "iocane", two recorded steps.
func (s *Sink) Deliver(ctx context.Context, d integrations.Delivery) error {
	h := http.Header{"Authorization": {s.key.Reveal()}}
	if s.KeyID != "" {
		h.Set("x-xdr-auth-id", s.KeyID)
	}
	id, err := integrations.Step(ctx, "entry", func() (string, error) {
		body := Entry{InvestigationID: IncidentID(d), Data: integrations.VerdictTable(d), Markdown: true}
		resp, err := integrations.Call(ctx, s.client, Name, integrations.Request{Method: http.MethodPost, URL: s.base + "/entry", Header: h, JSON: body}, s.key)
		if err != nil {
			return "", err
		}
		var out struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(resp.Body, &out)
		return out.ID, nil
	})
	if err != nil || id == "" {
		return err // an answer without the entry's id leaves nothing to tag
	}
	_, err = integrations.Step(ctx, "tags", func() (string, error) {
		body := EntryTags{ID: id, InvestigationID: IncidentID(d), Tags: []string{"iocane"}, Version: -1}
		_, err := integrations.Call(ctx, s.client, Name, integrations.Request{Method: http.MethodPost, URL: s.base + "/entry/tags", Header: h, JSON: body}, s.key)
		return "", err
	})
	return err
}
