package httpdecl

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/iocane/iocane/internal/ioc"
)

// This file holds the templates: url, link, body and summary. A placeholder
// is {value} (the IOC), {type} (its type, e.g. ipv4) or, where a response is
// at hand (link, summary), {PATH}, a gjson path into the response body.
// Each is escaped for its place: a path segment (url.PathEscape), a query
// value (url.QueryEscape), a JSON string (quoted), a form value, or plain
// text in a summary.

// escape says how a placeholder's value is written.
type escape int

const (
	escText  escape = iota // summary: as is
	escPath                // URL path segment
	escQuery               // URL query value, form value
	escJSON                // JSON string, quoted
)

// part is a literal run of a template, or a placeholder when name is set.
type part struct {
	text string
	name string // "value", "type" or a JSON path
	esc  escape
}

// template is a compiled template.
type template []part

// source is what placeholders are filled from.
type source struct {
	ioc  ioc.IOC
	body []byte // the response; nil while building a request
}

// render fills the template.
func (t template) render(s source) string {
	var b strings.Builder
	for _, p := range t {
		if p.name == "" {
			b.WriteString(p.text)
			continue
		}
		var v string
		switch p.name {
		case "value":
			v = s.ioc.Value
		case "type":
			v = string(s.ioc.Type)
		default:
			v = gjson.GetBytes(s.body, p.name).String()
		}
		switch p.esc {
		case escPath:
			v = url.PathEscape(v)
		case escQuery:
			v = url.QueryEscape(v)
		case escJSON:
			q, _ := json.Marshal(v)
			v = string(q)
		}
		b.WriteString(v)
	}
	return b.String()
}

// paths returns the JSON paths the template reads.
func (t template) paths() []string {
	var out []string
	for _, p := range t {
		if p.name != "" && p.name != "value" && p.name != "type" {
			out = append(out, p.name)
		}
	}
	return out
}

// parseText compiles a template whose every {...} is a placeholder: the
// summary (withPaths) and the URL templates.
func parseText(s string, withPaths bool, esc func(at int) escape) (template, error) {
	var t template
	for i := 0; i < len(s); {
		open := strings.IndexAny(s[i:], "{}")
		if open < 0 {
			t = append(t, part{text: s[i:]})
			break
		}
		open += i
		if s[open] == '}' {
			return nil, fmt.Errorf("%q: } without {", s)
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("%q: { without }", s)
		}
		end += open
		name := s[open+1 : end]
		if name != "value" && name != "type" {
			if !withPaths {
				return nil, fmt.Errorf("%q: unknown placeholder {%s} (want {value} or {type})", s, name)
			}
			if err := checkPath(name); err != nil {
				return nil, fmt.Errorf("%q: {%s}: %w", s, name, err)
			}
		}
		if open > i {
			t = append(t, part{text: s[i:open]})
		}
		t = append(t, part{name: name, esc: esc(open)})
		i = end + 1
	}
	return t, nil
}

// parseSummary compiles the summary template.
func parseSummary(s string) (template, error) {
	return parseText(s, true, func(int) escape { return escText })
}

// parseURL compiles a URL template (url, link): an absolute http(s) URL
// with no placeholder in its scheme or host, none in a fragment, each
// placeholder escaped as a path segment before the '?' and as a query value
// after it. It returns the origin (scheme://host[:port]) apart from the
// rest, the template of the path and query, so that base_url can replace
// the origin.
func parseURL(s string, withPaths bool) (origin string, rest template, err error) {
	u, perr := url.Parse(strings.NewReplacer("{", "", "}", "").Replace(s))
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, fmt.Errorf("%q: want an absolute http(s) URL", s)
	}
	after := strings.Index(s, "://") + 3
	n := strings.IndexAny(s[after:], "/?#")
	if n < 0 {
		n = len(s) - after
	}
	origin = s[:after+n]
	if strings.ContainsAny(origin, "{}") {
		return "", nil, fmt.Errorf("%q: no placeholder allowed in the scheme or host", s)
	}
	if q := strings.IndexByte(s, '#'); q >= 0 && strings.ContainsAny(s[q:], "{}") {
		return "", nil, fmt.Errorf("%q: no placeholder allowed in the fragment", s)
	}
	tail := s[after+n:]
	query := strings.IndexByte(tail, '?')
	rest, err = parseText(tail, withPaths, func(at int) escape {
		if query >= 0 && at > query {
			return escQuery
		}
		return escPath
	})
	return origin, rest, err
}

// bodyPlaceholder matches the placeholders of a body. Unlike in the other
// templates, only {value} and {type} are placeholders, so that a JSON
// body's own braces are text.
var bodyPlaceholder = regexp.MustCompile(`\{(value|type)\}`)

// parseBody compiles a request body. A body that begins with { or [ is
// JSON: each placeholder becomes a JSON string, and the body must be valid
// JSON once filled. Any other body is form-encoded: each placeholder is
// query-escaped. It returns the content type to send.
func parseBody(s string) (template, string, error) {
	trimmed := strings.TrimSpace(s)
	isJSON := strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[")
	esc, ctype := escQuery, "application/x-www-form-urlencoded"
	if isJSON {
		esc, ctype = escJSON, "application/json"
	}
	var t template
	last := 0
	for _, m := range bodyPlaceholder.FindAllStringSubmatchIndex(s, -1) {
		if m[0] > last {
			t = append(t, part{text: s[last:m[0]]})
		}
		t = append(t, part{name: s[m[2]:m[3]], esc: esc})
		last = m[1]
	}
	if last < len(s) {
		t = append(t, part{text: s[last:]})
	}
	if isJSON && !json.Valid([]byte(t.render(source{ioc: ioc.IOC{Type: ioc.Domain, Value: "example.com"}}))) {
		return nil, "", errors.New("not valid JSON once {value} is filled in as a JSON string (write {value}, not \"{value}\")")
	}
	return t, ctype, nil
}
