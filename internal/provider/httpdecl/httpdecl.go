// Package httpdecl builds providers from configuration instead of code: a
// providers.<name> block with kind: http declares which IOC types a source
// takes, the request to make (URL and body templates, the method, where the
// API key goes), how to tell found from not found, and how the JSON answer
// maps onto the malicious and benign signals, the summary and the link
// (docs/declarative-providers.md is the reference).
//
// It exists so that a team can add its own threat-intelligence service (an
// internal API, a vendor iocane does not ship) without a release, and still
// get everything a built-in provider gets: Parse compiles the block into an
// ordinary provider.Spec, which config declares (provider.Declare) and the
// pipeline builds like any registered one, on the shared HTTP chain (rate
// limit, quota, retry, breaker, size cap), with the key held as a
// provider.Secret. Every template, path and expression is checked when the
// configuration is loaded, so that a mistake is a start-up error naming the
// field rather than a silent zero at each look-up.
//
// This package holds more than one provider's usual 150–300 lines because it
// is a small compiler (expr.go, template.go) as well as a client
// (client.go); each file stays well under the house limit.
package httpdecl

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/provider"
	"github.com/iocane/iocane/internal/settings"
	"github.com/iocane/iocane/internal/tlp"
)

// Kind is the value of a block's kind key that this package compiles.
const Kind = "http"

// Defaults of a declared provider, for the keys a block leaves out.
const (
	DefaultRate        = "1/s"
	DefaultTTL         = 24 * time.Hour
	DefaultNotFoundTTL = 6 * time.Hour
)

// keyDocs documents the keys of a block beyond the settings every provider
// takes (enabled, api_key, base_url, rate, quota, max_tlp), in order.
var keyDocs = []provider.Setting{
	{Name: "kind", Doc: "http: a provider declared in configuration (docs/declarative-providers.md)"},
	{Name: "types", Doc: "IOC types the provider looks up, e.g. [ipv4, domain]"},
	{Name: "url", Doc: "request URL template: {value} and {type} escaped for their place"},
	{Name: "method", Default: "GET", Doc: "GET or POST"},
	{Name: "body", Doc: "POST body template: JSON (placeholders become JSON strings) or form-encoded"},
	{Name: "auth", Doc: "where the api_key goes: {header: NAME, prefix: TEXT} or {query: NAME}; none when unset"},
	{Name: "found", Doc: "rule an answer must match to be found: {status: [CODES], path: PATH, equals: VALUE}"},
	{Name: "not_found", Default: "{status: [404]}", Doc: "rule for a not-found answer, checked first"},
	{Name: "malicious", Doc: "expression giving the malicious signal in [0,1], e.g. data.score / 100"},
	{Name: "benign", Doc: "expression giving the benign signal in [0,1], e.g. data.whitelisted"},
	{Name: "summary", Doc: "one-line summary template over JSON paths, e.g. {data.category} score {data.score}"},
	{Name: "link", Doc: "permalink template for analysts"},
	{Name: "reliability", Default: "C", Doc: "source reliability grade, A to F"},
	{Name: "discloses", Default: "true", Doc: "false when a look-up reveals the IOC to no third party"},
	{Name: "ttl", Default: "24h", Doc: "how long a found answer is cached"},
	{Name: "not_found_ttl", Default: "6h", Doc: "how long a not-found answer is cached"},
}

// Keys are the keys of a block that Parse reads and the provider's
// settings do not: config leaves them out of provider.Config.Settings.
var Keys = func() []string {
	out := make([]string, len(keyDocs))
	for i, d := range keyDocs {
		out[i] = d.Name
	}
	return out
}()

// validName is what a declared provider may be called: its name is part
// of IOCANE_<NAME>_API_KEY and of the output.
var validName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// decl is a compiled block.
type decl struct {
	name      string
	types     []ioc.Type
	origin    string   // scheme://host[:port] of url, Spec.BaseURL
	path      template // the rest of url
	method    string
	body      template
	ctype     string
	auth      auth
	found     rule
	notFound  rule
	malicious *expr
	benign    *expr
	summary   template
	link      template // whole link, origin included
}

// auth says where the api_key goes.
type auth struct {
	header, prefix, query string
}

func (a auth) set() bool { return a.header != "" || a.query != "" }

// rule is a found or not_found test.
type rule struct {
	status []int // nil: any 2xx
	path   string
	equals *literal // nil: the path's value is truthy
}

// Parse compiles the block declared as providers.<name> (as the YAML
// parser gives it) into a Spec. Every error names its field, e.g.
// "providers.corp_ti.malicious: ...". It does no I/O.
func Parse(name string, block map[string]any) (provider.Spec, error) {
	pre := "providers." + name + "."
	if !validName.MatchString(name) {
		return provider.Spec{}, fmt.Errorf("providers.%s: a declared provider's name is lower-case letters, digits and underscores, beginning with a letter", name)
	}
	p := parser{pre: pre, block: block}
	d := &decl{name: name}
	spec := provider.Spec{
		Name: name, Rate: DefaultRate, TTL: DefaultTTL, NotFoundTTL: DefaultNotFoundTTL,
		MaxTLP: tlp.Amber, Discloses: true, Reliability: provider.ReliabilityC,
		Settings: keyDocs, New: d.new,
	}
	if k := p.str("kind"); k != Kind {
		p.fail("kind", fmt.Errorf("want %q, got %q", Kind, k))
	}
	d.types = p.types()
	spec.Types = d.types
	if s := p.str("url"); s == "" {
		p.fail("url", errors.New("required"))
	} else if origin, path, err := parseURL(s, false); err != nil {
		p.fail("url", err)
	} else {
		d.origin, d.path, spec.BaseURL = origin, path, origin
	}
	d.method = strings.ToUpper(p.str("method"))
	switch d.method {
	case "":
		d.method = http.MethodGet
	case http.MethodGet, http.MethodPost:
	default:
		p.fail("method", fmt.Errorf("want GET or POST, got %q", d.method))
	}
	if _, ok := p.block["body"]; ok {
		if d.method != http.MethodPost {
			p.fail("body", errors.New("a body needs method: POST"))
		} else if t, ct, err := parseBody(p.str("body")); err != nil {
			p.fail("body", err)
		} else {
			d.body, d.ctype = t, ct
		}
	}
	d.auth = p.auth()
	if d.auth.set() {
		spec.Credentials = []string{"api_key"}
	}
	d.found = p.rule("found", rule{})
	d.notFound = p.rule("not_found", rule{status: []int{http.StatusNotFound}})
	d.malicious = p.expr("malicious")
	d.benign = p.expr("benign")
	if s := p.str("summary"); s != "" {
		t, err := parseSummary(s)
		p.fail("summary", err)
		d.summary = t
	}
	if s := p.str("link"); s != "" {
		origin, rest, err := parseURL(s, true)
		p.fail("link", err)
		d.link = append(template{{text: origin}}, rest...)
	}
	if s := p.str("rate"); s != "" {
		spec.Rate = s
	}
	spec.Quota = p.str("quota")
	spec.Discloses = p.boolean("discloses", true)
	if s := p.str("max_tlp"); s != "" {
		l, err := tlp.MustParse(s)
		switch {
		case err != nil:
			p.fail("max_tlp", err)
		case l == tlp.Red && spec.Discloses:
			p.fail("max_tlp", errors.New("red only for a source that reveals nothing to a third party (discloses: false)"))
		default:
			spec.MaxTLP = l
		}
	}
	if s := p.str("reliability"); s != "" {
		r, err := reliability(s)
		p.fail("reliability", err)
		spec.Reliability = r
	}
	spec.TTL = p.duration("ttl", DefaultTTL)
	spec.NotFoundTTL = p.duration("not_found_ttl", DefaultNotFoundTTL)
	if err := errors.Join(p.errs...); err != nil {
		return provider.Spec{}, err
	}
	return spec, nil
}

// reliability reads a grade given as its letter ("B") or in full.
func reliability(s string) (provider.Reliability, error) {
	for _, r := range []provider.Reliability{provider.ReliabilityA, provider.ReliabilityB, provider.ReliabilityC,
		provider.ReliabilityD, provider.ReliabilityE, provider.ReliabilityF} {
		if strings.EqualFold(s, string(r[:1])) || strings.EqualFold(s, string(r)) {
			return r, nil
		}
	}
	return "", fmt.Errorf("want a grade A to F, got %q", s)
}

// parser reads the fields of one block, collecting errors.
type parser struct {
	pre   string
	block map[string]any
	errs  []error
}

func (p *parser) fail(field string, err error) {
	if err != nil {
		p.errs = append(p.errs, settings.Wrap(p.pre+field+": ", err))
	}
}

// str reads a scalar field as text ("" when unset); a map or list is an error.
func (p *parser) str(field string) string {
	v, ok := p.block[field]
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(x)
	}
	if ok {
		p.fail(field, fmt.Errorf("want a single value, got %T", v))
	}
	return ""
}

func (p *parser) boolean(field string, def bool) bool {
	s := p.str(field)
	if s == "" {
		return def
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.fail(field, fmt.Errorf("want true or false, got %q", s))
	}
	return b
}

func (p *parser) duration(field string, def time.Duration) time.Duration {
	s := p.str(field)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		p.fail(field, fmt.Errorf("want a duration such as 6h, got %q", s))
	}
	return d
}

// list reads a YAML list or a comma-separated string.
func (p *parser) list(field string) []string {
	var items []string
	switch x := p.block[field].(type) {
	case []any:
		for _, e := range x {
			items = append(items, fmt.Sprint(e))
		}
	default:
		items = strings.Split(p.str(field), ",")
	}
	var out []string
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) types() []ioc.Type {
	var out []ioc.Type
	for _, s := range p.list("types") {
		t := ioc.Type(strings.ToLower(s))
		if !t.Valid() {
			p.fail("types", fmt.Errorf("unknown IOC type %q", s))
			continue
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 && len(p.errs) == 0 {
		p.fail("types", errors.New("required: the IOC types the provider looks up"))
	}
	return out
}

// sub returns the nested map of field, refusing keys not in known.
func (p *parser) sub(field string, known ...string) (map[string]any, bool) {
	v, ok := p.block[field]
	if !ok || v == nil {
		return nil, false
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		p.fail(field, fmt.Errorf("want a map with %s", strings.Join(known, ", ")))
		return nil, false
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if err := settings.Unknown(p.pre+field+".", keys, known); err != nil {
		p.errs = append(p.errs, err)
	}
	return m, true
}

func (p *parser) auth() auth {
	m, ok := p.sub("auth", "header", "prefix", "query")
	if !ok {
		return auth{}
	}
	sp := parser{pre: p.pre + "auth.", block: m}
	a := auth{header: sp.str("header"), prefix: sp.str("prefix"), query: sp.str("query")}
	p.errs = append(p.errs, sp.errs...)
	switch {
	case (a.header == "") == (a.query == ""):
		p.fail("auth", errors.New("give one of header or query"))
	case a.prefix != "" && a.header == "":
		p.fail("auth.prefix", errors.New("a prefix goes with header"))
	case a.header != "" && !validHeader(a.header):
		p.fail("auth.header", fmt.Errorf("%q is not a header name", a.header))
	}
	return a
}

func validHeader(h string) bool {
	for _, c := range h {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return h != ""
}

func (p *parser) rule(field string, def rule) rule {
	m, ok := p.sub(field, "status", "path", "equals")
	if !ok {
		return def
	}
	var r rule
	switch x := m["status"].(type) {
	case nil:
	case []any:
		for _, e := range x {
			r.status = append(r.status, p.code(field, e))
		}
	default:
		r.status = append(r.status, p.code(field, x))
	}
	sp := parser{pre: p.pre + field + ".", block: m}
	r.path = sp.str("path")
	p.errs = append(p.errs, sp.errs...)
	if r.path != "" {
		p.fail(field+".path", checkPath(r.path))
	}
	if v, ok := m["equals"]; ok {
		if r.path == "" {
			p.fail(field+".equals", errors.New("equals needs a path"))
		}
		lit, err := yamlLiteral(v)
		p.fail(field+".equals", err)
		r.equals = &lit
	}
	if r.status == nil && r.path == "" && field == "not_found" {
		p.fail(field, errors.New("give status or path: an empty rule would call every answer not found"))
	}
	return r
}

func (p *parser) code(field string, v any) int {
	n, ok := v.(int)
	if !ok || n < 100 || n > 599 {
		p.fail(field+".status", fmt.Errorf("want HTTP status codes, got %v", v))
	}
	return n
}

func (p *parser) expr(field string) *expr {
	s := p.str(field)
	if s == "" {
		return nil
	}
	e, err := parseExpr(s)
	p.fail(field, err)
	return e
}
