package httpdecl

import (
	"strings"
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

func TestExpr(t *testing.T) {
	body := []byte(`{"data": {"score": 85, "pct": 0.35, "str": "42", "listed": true, "clean": false,
		"verdict": "malicious", "zero": 0, "obj": {"a": 1}, "name": "x", "nil": null,
		"items": [{"s": 10}, {"s": 70}]}}`)
	cases := []struct {
		expr string
		want float64
	}{
		{"data.score / 100", 0.85},
		{"data.score", 1}, // clamped
		{"data.pct", 0.35},
		{"data.pct * 2", 0.7},
		{"data.str / 100", 0.42}, // a numeric string
		{"data.listed", 1},
		{"data.clean", 0},
		{"data.missing", 0}, // says nothing
		{"data.nil / 10", 0},
		{"data.score / -100", 0}, // clamped
		{`data.verdict == "malicious"`, 1},
		{`data.verdict == 'malicious' ? 0.8`, 0.8},
		{`data.verdict != "malicious"`, 0},
		{`data.verdict == "clean" ? 0.5`, 0},
		{"data.score >= 85 ? 0.9", 0.9},
		{"data.score > 85", 0},
		{"data.score < 90", 1},
		{"data.score <= 84.5", 0},
		{"data.str == 42", 1},
		{"data.name >= 1", 0}, // not a number: false
		{"data.listed == true", 1},
		{"data.missing == null", 1},
		{"data.items.#(s>50).s / 100", 0.7},
		{"data.items.# / 4", 0.5},
		{`data.verdict == "two words" ? 1`, 0},
	}
	for _, c := range cases {
		e, err := parseExpr(c.expr)
		if err != nil {
			t.Errorf("parseExpr(%q): %v", c.expr, err)
			continue
		}
		got, err := e.eval(body)
		if err != nil || !near(got, c.want) {
			t.Errorf("%q = %v, %v; want %v", c.expr, got, err, c.want)
		}
	}
	for _, s := range []string{"data.obj", "data.name", "data.obj / 2"} {
		e, _ := parseExpr(s)
		if _, err := e.eval(body); err == nil {
			t.Errorf("%q: no error for a value that is not a number", s)
		}
	}
}

func TestExprErrors(t *testing.T) {
	for _, s := range []string{
		"", "   ", "data.score/100", "data.score / 0", "data.score / x", "data.score /", "data.score % 3",
		`data.v == "x" ? 2`, `data.v == "x" : 0.5`, `data.v > "x"`, "data.v == maybe", `data.v == "open`,
		"data..score", ".data", "data.", "data.#(a>1", "data.@nosuch", "@nosuch", "a b c d",
	} {
		if _, err := parseExpr(s); err == nil {
			t.Errorf("parseExpr(%q): no error", s)
		}
	}
}

func TestTemplates(t *testing.T) {
	i := ioc.IOC{Type: ioc.URL, Value: "http://x.test/a b?c=d&e"}
	origin, rest, err := parseURL("https://api.example:8443/v1/{type}/{value}?q={value}&t={type}", false)
	if err != nil {
		t.Fatal(err)
	}
	if origin != "https://api.example:8443" {
		t.Errorf("origin = %q", origin)
	}
	want := "/v1/url/http:%2F%2Fx.test%2Fa%20b%3Fc=d&e?q=http%3A%2F%2Fx.test%2Fa+b%3Fc%3Dd%26e&t=url"
	if got := rest.render(source{ioc: i}); got != want {
		t.Errorf("url = %q\nwant %q", got, want)
	}
	for _, bad := range []string{
		"ftp://x/{value}", "https://{value}.example/", "https://x/{nosuch}", "https://x/{value", "https://x/}",
		"https://x/a#{value}", "/relative/{value}", "",
	} {
		if _, _, err := parseURL(bad, false); err == nil {
			t.Errorf("parseURL(%q): no error", bad)
		}
	}
	if _, _, err := parseURL("https://x/{data.id}", true); err != nil {
		t.Errorf("link with a JSON path: %v", err)
	}

	body, ctype, err := parseBody(`{"q": {value}, "t": {type}, "opts": {"deep": [1, {}]}}`)
	if err != nil || ctype != "application/json" {
		t.Fatal(err, ctype)
	}
	if got := body.render(source{ioc: ioc.IOC{Type: ioc.URL, Value: `http://x/"a"\`}}); got != `{"q": "http://x/\"a\"\\", "t": "url", "opts": {"deep": [1, {}]}}` {
		t.Errorf("json body = %s", got)
	}
	form, ctype, err := parseBody("query={value}&kind={type}")
	if err != nil || ctype != "application/x-www-form-urlencoded" {
		t.Fatal(err, ctype)
	}
	if got := form.render(source{ioc: i}); got != "query=http%3A%2F%2Fx.test%2Fa+b%3Fc%3Dd%26e&kind=url" {
		t.Errorf("form body = %s", got)
	}
	for _, bad := range []string{`{"q": "{value}"}`, `{"q": {value}`, `[{value},]`} {
		if _, _, err := parseBody(bad); err == nil {
			t.Errorf("parseBody(%q): no error", bad)
		}
	}

	sum, err := parseSummary("{data.family} on {value} ({type}): {data.missing}")
	if err != nil {
		t.Fatal(err)
	}
	got := sum.render(source{ioc: ioc.IOC{Type: ioc.IPv4, Value: "192.0.2.1"}, body: []byte(`{"data": {"family": "Mirai"}}`)})
	if got != "Mirai on 192.0.2.1 (ipv4): " {
		t.Errorf("summary = %q", got)
	}
	if _, err := parseSummary("{data.x} {data y}"); err == nil {
		t.Error("summary with a bad path: no error")
	}
}

// valid is a block that compiles; each case of TestParseErrors changes one key.
func valid() map[string]any {
	return map[string]any{
		"kind": "http", "types": []any{"ipv4"}, "url": "https://x.example/{value}",
		"auth": map[string]any{"header": "X-Key"},
	}
}

// A mistake is an error naming its field, so that config reports
// "config: providers.corp.<field>: ...".
func TestParseErrors(t *testing.T) {
	cases := []struct {
		key   string
		value any
		field string
	}{
		{"kind", "grpc", "kind"},
		{"types", []any{"ipv4", "ipv9"}, "types"},
		{"types", nil, "types"},
		{"url", nil, "url"},
		{"url", "https://{value}.x/", "url"},
		{"url", "https://x/{indicator}", "url"},
		{"method", "PUT", "method"},
		{"body", `{"q": {value}}`, "body"}, // GET
		{"auth", map[string]any{"heder": "X"}, "auth.heder"},
		{"auth", map[string]any{"header": "X", "query": "k"}, "auth"},
		{"auth", map[string]any{"query": "k", "prefix": "Bearer "}, "auth.prefix"},
		{"auth", map[string]any{"header": "X Key"}, "auth.header"},
		{"auth", "X-Key", "auth"},
		{"found", map[string]any{"status": []any{200, 999}}, "found.status"},
		{"found", map[string]any{"equals": true}, "found.equals"},
		{"found", map[string]any{"path": "data..x"}, "found.path"},
		{"found", map[string]any{"path": "a", "equals": []any{1}}, "found.equals"},
		{"found", map[string]any{"stat": 200}, "found.stat"},
		{"not_found", map[string]any{}, "not_found"},
		{"malicious", "data.score/100", "malicious"},
		{"benign", "data.ok == yes", "benign"},
		{"summary", "{data.x", "summary"},
		{"link", "{value}", "link"},
		{"reliability", "Z", "reliability"},
		{"discloses", "perhaps", "discloses"},
		{"max_tlp", "purple", "max_tlp"},
		{"max_tlp", "red", "max_tlp"}, // discloses defaults to true
		{"ttl", "a day", "ttl"},
		{"url", map[string]any{"a": 1}, "url"},
	}
	for _, c := range cases {
		b := valid()
		if c.value == nil {
			delete(b, c.key)
		} else {
			b[c.key] = c.value
		}
		_, err := Parse("corp", b)
		want := "providers.corp." + c.field + ": "
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s = %#v: error %v, want it to begin with %q", c.key, c.value, err, want)
		}
	}
	for _, name := range []string{"Corp", "corp-ti", "1corp", "_corp", ""} {
		if _, err := Parse(name, valid()); err == nil {
			t.Errorf("name %q: no error", name)
		}
	}
	b := valid()
	b["max_tlp"], b["discloses"] = "red", false
	if s, err := Parse("corp", b); err != nil || s.MaxTLP != tlp.Red {
		t.Errorf("red for a source that discloses nothing: %v %v", s.MaxTLP, err)
	}
}

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{"data.score / 100", `a == "b" ? 0.5`, "a.#(b>1).c", "a|@reverse", `"`, "a.@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseExpr(s)
		if err == nil {
			v, _ := e.eval([]byte(`{"a": {"b": [1, "2", true, null, {"c": 3}]}, "data": {"score": 50}}`))
			if v < 0 || v > 1 {
				t.Errorf("%q = %v, outside [0,1]", s, v)
			}
		}
		_, _, _ = parseURL("https://x.example/"+s, true)
		_, _ = parseSummary(s)
		_, _, _ = parseBody(s)
	})
}
