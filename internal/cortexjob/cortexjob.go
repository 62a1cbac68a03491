// Package cortexjob runs iocane as a Cortex analyzer of the process kind,
// the way cortexutils' Analyzer does for Python analyzers: Cortex starts
// `iocane cortex JOBDIR`, which reads JOBDIR/input/input.json
//
//	{"dataType": "ip", "data": "185.220.101.47", "tlp": 2, "pap": 2, "config": {...}}
//
// enriches the one observable and writes JOBDIR/output/output.json, a report
// for exactly that observable:
//
//	{"success": true, "summary": {"taxonomies": [...]}, "full": <the result>,
//	 "artifacts": [{"dataType": "domain", "data": "..."}], "operations": []}
//
// or, when it cannot, {"success": false, "input": <the input, secrets
// REMOVED>, "errorMessage": "..."}. With config.url set it asks that iocane
// server (POST /v1/enrich, with config.token); without, it enriches here,
// with the provider keys config gives (config.virustotal_api_key, ...).
package cortexjob

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/output/cortex"
	"github.com/iocane/iocane/internal/pipeline"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

// DataTypes are the Cortex data types iocane analyzes.
var DataTypes = []string{"ip", "domain", "fqdn", "url", "hash", "mail", "autonomous-system"}

// Input is the part of input.json iocane reads.
type Input struct {
	DataType string         `json:"dataType"`
	Data     string         `json:"data"`
	TLP      *int           `json:"tlp"`
	PAP      *int           `json:"pap"`
	Config   map[string]any `json:"config"`
}

// Artifact is an observable the report suggests adding to the case.
type Artifact struct {
	DataType string `json:"dataType"`
	Data     string `json:"data"`
}

// Report is the output of a successful run.
type Report struct {
	cortex.Report
	Artifacts []Artifact `json:"artifacts"`
}

// Options configure Run.
type Options struct {
	// Pipeline is how a local run opens iocane (config file, store,
	// logger); its Environ gains the provider keys of config.
	Pipeline pipeline.Options
	// HTTP asks the server in remote mode; nil means a client with a
	// 2-minute timeout.
	HTTP *http.Client
}

// Run analyzes the job in dir and writes its output.json. The error it
// returns is also what output.json says: Cortex reads the file, the exit
// status tells the operator.
func Run(ctx context.Context, dir string, o Options) error {
	raw, in, err := read(dir)
	if err != nil {
		return fail(dir, raw, err)
	}
	i, err := in.IOC()
	if err != nil {
		return fail(dir, raw, err)
	}
	var r result.Result
	if u := in.config("url"); u != "" {
		r, err = remote(ctx, o.HTTP, u, in.config("token"), i, in.Level())
	} else {
		r, err = local(ctx, o.Pipeline, in, i)
	}
	if err != nil {
		return fail(dir, raw, err)
	}
	return write(dir, Build(r))
}

// Build is the report for r: cortex.Build's summary and full result, and as
// artifacts the hosts a URL or an e-mail address holds.
func Build(r result.Result) Report {
	rep := Report{Report: cortex.Build(r), Artifacts: []Artifact{}}
	for _, rel := range ioc.Related(r.IOC) {
		rep.Artifacts = append(rep.Artifacts, Artifact{DataType: dataTypeOf(rel.Type), Data: rel.Value})
	}
	return rep
}

func read(dir string) (map[string]any, Input, error) {
	var raw map[string]any
	var in Input
	b, err := os.ReadFile(filepath.Join(dir, "input", "input.json"))
	if err != nil {
		return nil, in, fmt.Errorf("cannot read the job's input: %w", err)
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, in, fmt.Errorf("input.json is not a JSON object: %w", err)
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return raw, in, fmt.Errorf("input.json: %w", err)
	}
	return raw, in, nil
}

// IOC is the observable as an IOC of the type its dataType names.
func (in Input) IOC() (ioc.IOC, error) {
	data := strings.TrimSpace(in.Data)
	if data == "" {
		return ioc.IOC{}, errors.New("missing data field")
	}
	var want []ioc.Type
	switch in.DataType {
	case "ip":
		want = []ioc.Type{ioc.IPv4, ioc.IPv6}
	case "domain", "fqdn":
		want = []ioc.Type{ioc.Domain}
	case "url":
		want = []ioc.Type{ioc.URL}
	case "hash":
		want = []ioc.Type{ioc.MD5, ioc.SHA1, ioc.SHA256, ioc.SHA512}
	case "mail":
		want = []ioc.Type{ioc.Email}
	case "autonomous-system":
		want = []ioc.Type{ioc.ASN}
	default:
		return ioc.IOC{}, fmt.Errorf("iocane does not analyze dataType %q (it takes %s)", in.DataType, strings.Join(DataTypes, ", "))
	}
	i, err := ioc.Parse(data)
	if err != nil {
		return ioc.IOC{}, fmt.Errorf("%q is not a valid %s: %w", data, in.DataType, err)
	}
	for _, t := range want {
		if i.Type == t {
			return i, nil
		}
	}
	return ioc.IOC{}, fmt.Errorf("%q is a %s, not a %s", data, i.Type, in.DataType)
}

// Level is the observable's TLP: Cortex's number (0 white, 1 green,
// 2 amber, 3 red; TheHive 5's 4 amber+strict), AMBER when absent, RED when
// not a number Cortex sends.
func (in Input) Level() tlp.Level {
	if in.TLP == nil {
		return tlp.Amber
	}
	switch *in.TLP {
	case 0:
		return tlp.Clear
	case 1:
		return tlp.Green
	case 2:
		return tlp.Amber
	case 4:
		return tlp.AmberStrict
	}
	return tlp.Red
}

// config returns the string config item name, "" when absent.
func (in Input) config(name string) string {
	s, _ := in.Config[name].(string)
	return strings.TrimSpace(s)
}

func dataTypeOf(t ioc.Type) string {
	switch t {
	case ioc.IPv4, ioc.IPv6:
		return "ip"
	case ioc.MD5, ioc.SHA1, ioc.SHA256, ioc.SHA512:
		return "hash"
	case ioc.Email:
		return "mail"
	case ioc.ASN:
		return "autonomous-system"
	}
	return string(t)
}

// local enriches i here. The config items named <provider>_api_key (and
// any other <provider>_<setting>) become IOCANE_<PROVIDER>_<SETTING>.
func local(ctx context.Context, po pipeline.Options, in Input, i ioc.IOC) (result.Result, error) {
	environ := po.Environ
	if environ == nil {
		environ = os.Environ()
	}
	environ = append([]string(nil), environ...)
	for k, v := range in.Config {
		s, ok := v.(string)
		name, _, _ := strings.Cut(k, "_")
		if _, known := provider.Get(name); ok && known && s != "" {
			environ = append(environ, "IOCANE_"+strings.ToUpper(k)+"="+s)
		}
	}
	po.Environ = environ
	p, err := pipeline.Open(ctx, po)
	if err != nil {
		return result.Result{}, err
	}
	defer p.Close()
	level := in.Level()
	var out []result.Result
	_, err = p.Run(ctx, pipeline.RunOptions{Values: []ioc.IOC{i}, TLP: &level, Ordered: true,
		Write: func(r result.Result) error { out = append(out, r); return nil }})
	if err != nil {
		return result.Result{}, err
	}
	if len(out) != 1 {
		return result.Result{}, fmt.Errorf("enrichment gave %d results for one observable", len(out))
	}
	return out[0], nil
}

// remote asks the iocane server at base for i.
func remote(ctx context.Context, c *http.Client, base, token string, i ioc.IOC, level tlp.Level) (result.Result, error) {
	if c == nil {
		c = &http.Client{Timeout: 2 * time.Minute}
	}
	u, err := url.Parse(strings.TrimRight(base, "/") + "/v1/enrich")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return result.Result{}, fmt.Errorf("config.url %q is not an http(s) URL", base)
	}
	body, _ := json.Marshal(map[string]any{"iocs": []string{i.Value}, "tlp": level.String()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return result.Result{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return result.Result{}, fmt.Errorf("iocane server: %w", provider.Scrub(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return result.Result{}, fmt.Errorf("iocane server: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return result.Result{}, fmt.Errorf("iocane server answered %d: %s", resp.StatusCode, provider.RedactedExcerpt(b, 300, provider.NewSecret(token)))
	}
	var rs []result.Result
	if err := json.Unmarshal(b, &rs); err != nil || len(rs) != 1 {
		return result.Result{}, fmt.Errorf("iocane server: want one result, got %d (%v)", len(rs), err)
	}
	return rs[0], nil
}

// secretPhrases mark config items whose values an error output hides, as
// cortexutils does.
var secretPhrases = []string{"key", "password", "secret", "token"}

// fail writes the error output and returns err.
func fail(dir string, raw map[string]any, err error) error {
	if cfg, ok := raw["config"].(map[string]any); ok {
		for k := range cfg {
			for _, p := range secretPhrases {
				if strings.Contains(strings.ToLower(k), p) {
					cfg[k] = "REMOVED"
				}
			}
		}
	}
	if raw == nil {
		raw = map[string]any{}
	}
	if werr := write(dir, map[string]any{"success": false, "input": raw, "errorMessage": err.Error()}); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

func write(dir string, v any) error {
	if err := os.MkdirAll(filepath.Join(dir, "output"), 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "output", "output.json"), b, 0o644)
}
