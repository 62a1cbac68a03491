// Package splunksoar writes enrichment back to a Splunk SOAR (Phantom)
// container: one artifact per enriched IOC, its value in the matching CEF
// field (sourceAddress, destinationDnsDomain, requestURL, fileHash*,
// fromEmail) with the verdict, score and reasons beside it, and one note
// with the verdict table. README.md documents the API calls.
package splunksoar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/iocane/iocane/internal/integrations"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
)

// Name is the sink's config name.
const Name = "splunksoar"

func init() {
	integrations.Register(integrations.SinkSpec{
		Name: Name, Required: []string{"base_url", "token"}, Secrets: []string{"token"},
		Optional: map[string]string{"label": "iocane"}, URLs: []string{"base_url"},
		New: func(s integrations.Settings, env integrations.Env) (integrations.Sink, error) {
			sk := New(s.Get("base_url"), s.Secret("token"), integrations.NewHTTPClient(Name, env.Timeout, env.Transport))
			sk.Label = s.Get("label")
			return sk, nil
		},
	})
}

// Sink is the Splunk SOAR write-back.
type Sink struct {
	base   string
	token  provider.Secret
	client *http.Client
	// Label is the artifacts' label. Default iocane.
	Label string
}

var _ integrations.Sink = (*Sink)(nil)

// New returns a sink for the SOAR at base (https://soar.example.org).
func New(base string, token provider.Secret, client *http.Client) *Sink {
	if client == nil {
		client = integrations.NewHTTPClient(Name, 0, nil)
	}
	return &Sink{base: strings.TrimRight(base, "/"), token: token, client: client, Label: "iocane"}
}

// Name implements integrations.Sink.
func (*Sink) Name() string { return Name }

// ContainerID returns the SOAR container of d's alert: the alert
// reference's container_id (generic webhook: ?container_id= or a
// "container_id" member), or the id of an alert from system splunksoar.
func ContainerID(d integrations.Delivery) (int64, bool) {
	a := d.Job.Alert
	if a == nil {
		return 0, false
	}
	v := a.Extra["container_id"]
	if v == "" && a.System == Name {
		v = a.ID
	}
	id, err := strconv.ParseInt(v, 10, 64)
	return id, err == nil && id > 0
}

// Applies is true for an alert carrying a container id, with results.
func (*Sink) Applies(d integrations.Delivery) bool {
	_, ok := ContainerID(d)
	return ok && len(d.Results) > 0
}

// Artifact is the body of POST /rest/artifact.
type Artifact struct {
	ContainerID          int64               `json:"container_id"`
	Name                 string              `json:"name"`
	Label                string              `json:"label"`
	Severity             string              `json:"severity"`
	SourceDataIdentifier string              `json:"source_data_identifier"`
	CEF                  map[string]any      `json:"cef"`
	CEFTypes             map[string][]string `json:"cef_types"`
	Tags                 []string            `json:"tags"`
	RunAutomation        bool                `json:"run_automation"`
}

// Note is the body of POST /rest/note.
type Note struct {
	ContainerID int64  `json:"container_id"`
	Title       string `json:"title"`
	Content     string `json:"content"`
	NoteType    string `json:"note_type"`
	NoteFormat  string `json:"note_format"`
}

// CEFField returns the CEF field for an IOC type and its SOAR "contains".
func CEFField(t ioc.Type) (field, contains string) {
	switch t {
	case ioc.IPv4:
		return "sourceAddress", "ip"
	case ioc.IPv6:
		return "sourceAddress", "ipv6"
	case ioc.Domain:
		return "destinationDnsDomain", "domain"
	case ioc.URL:
		return "requestURL", "url"
	case ioc.Email:
		return "fromEmail", "email"
	case ioc.MD5:
		return "fileHashMd5", "md5"
	case ioc.SHA1:
		return "fileHashSha1", "sha1"
	case ioc.SHA256:
		return "fileHashSha256", "sha256"
	case ioc.SHA512:
		return "fileHashSha512", "sha512"
	}
	return "iocaneIndicator", string(t)
}

// ArtifactOf maps one result: the IOC in its CEF field, iocaneVerdict,
// iocaneScore, iocaneConfidence, iocaneReasons and iocaneDBotScore as
// custom CEF fields, severity high/medium/low from the verdict, and a
// source_data_identifier unique per job and IOC (the retry key).
func (s *Sink) ArtifactOf(container int64, jobID string, r result.Result, last bool) Artifact {
	field, contains := CEFField(r.IOC.Type)
	sev := "low"
	switch r.Verdict {
	case result.Malicious:
		sev = "high"
	case result.Suspicious:
		sev = "medium"
	}
	reasons := r.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	return Artifact{
		ContainerID: container, Name: "iocane " + string(r.Verdict) + ": " + r.IOC.Value, Label: s.Label, Severity: sev,
		SourceDataIdentifier: "iocane:" + jobID + ":" + string(r.IOC.Type) + ":" + r.IOC.Value,
		CEF: map[string]any{field: r.IOC.Value, "iocaneVerdict": string(r.Verdict), "iocaneScore": r.Score,
			"iocaneConfidence": r.Confidence, "iocaneDBotScore": r.DBotScore, "iocaneReasons": strings.Join(reasons, "; "), "iocaneTLP": r.TLP.String()},
		CEFTypes:      map[string][]string{field: {contains}},
		Tags:          []string{"iocane", "iocane_" + string(r.Verdict)},
		RunAutomation: last,
	}
}

// Deliver creates the artifacts (run_automation only on the last, as
// SOAR's documentation advises, so playbooks run once) and the note.
func (s *Sink) Deliver(ctx context.Context, d integrations.Delivery) error {
	container, _ := ContainerID(d)
	rs := integrations.Sorted(d.Results)
	for i, r := range rs {
		a := s.ArtifactOf(container, d.Job.ID, r, i == len(rs)-1)
		if _, err := integrations.Step(ctx, "artifact:"+string(r.IOC.Type)+":"+r.IOC.Value, func() (string, error) {
			return s.post(ctx, "/rest/artifact", a)
		}); err != nil {
			return err
		}
	}
	_, err := integrations.Step(ctx, "note", func() (string, error) {
		return s.post(ctx, "/rest/note", Note{ContainerID: container, Title: "iocane enrichment: " + integrations.Summary(d.Results),
			Content: integrations.VerdictTable(d), NoteType: "general", NoteFormat: "markdown"})
	})
	return err
}

// post sends body and returns the new object's id. An artifact SOAR
// already holds (same source_data_identifier: an earlier attempt landed)
// answers existing_artifact_id, which counts as landed.
func (s *Sink) post(ctx context.Context, path string, body any) (string, error) {
	h := http.Header{"ph-auth-token": {s.token.Reveal()}}
	resp, err := integrations.Call(ctx, s.client, Name, integrations.Request{Method: http.MethodPost, URL: s.base + path, Header: h, JSON: body}, s.token)
	var out struct {
		ID       json.Number `json:"id"`
		Existing json.Number `json:"existing_artifact_id"`
	}
	if resp != nil {
		_ = json.Unmarshal(resp.Body, &out)
	}
	var se *integrations.StatusError
	if err != nil && errors.As(err, &se) && se.Code < 500 && out.Existing != "" {
		return "existing:" + out.Existing.String(), nil
	}
	if err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("splunksoar: %s: %w: no id in the answer", path, provider.ErrBadResponse)
	}
	return out.ID.String(), nil
}
