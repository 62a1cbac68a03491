package console

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/integrations/notify"
	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/result"
)

// funcs are the templates' helpers. Every value reaches the page through
// html/template's escaping; none of these returns trusted HTML.
var funcs = template.FuncMap{
	"defang":    func(i ioc.IOC) string { return defang(i.Type, i.Value) },
	"iocLink":   iocLink,
	"chip":      chipClass,
	"chipText":  chipText,
	"top":       top,
	"when":      when,
	"short":     shortID,
	"clip":      clip,
	"lowMark":   func(limit int64) int64 { return limit / 2 },
	"highMark":  func(limit int64) int64 { return limit * 9 / 10 },
	"max1":      func(n int) int { return max(n, 1) },
	"canIngest": func(s *session) bool { return s != nil && s.can(ScopeIngest) },
	"keyFields": keyFields,
}

// defang shows an IOC so that nothing can follow it: 185.220.101[.]47,
// hxxp[://]evil[.]com/x.
func defang(t ioc.Type, v string) string { return notify.Defang(t, v) }

// iocLink is the console's page of an IOC.
func iocLink(i ioc.IOC) string {
	return "/ui/ioc?" + "type=" + template.URLQueryEscaper(string(i.Type)) + "&value=" + template.URLQueryEscaper(i.Value)
}

// chipClass is a source's status as a CSS class: ok, not-found, error,
// skipped, rate-limited, cached.
func chipClass(s result.Source) string {
	if s.Cached && (s.Status == "ok" || s.Status == "not_found") {
		return "cached"
	}
	return strings.ReplaceAll(s.Status, "_", "-")
}

// chipText is a chip's words: the status said out, for screen readers too.
func chipText(s result.Source) string {
	st := strings.ReplaceAll(s.Status, "_", " ")
	if s.Cached && (s.Status == "ok" || s.Status == "not_found") {
		st += ", cached"
	}
	return s.Provider + ": " + st
}

// top returns the first n reasons.
func top(n int, rs []string) []string { return rs[:min(n, len(rs))] }

func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func clip(n int, s string) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// keyFields are a source's data fields worth showing, as text: scalars
// and short lists, at most 12.
func keyFields(data map[string]any) [][2]string {
	var out [][2]string
	for k, v := range data {
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case float64, bool, int, int64:
			s = fmt.Sprint(x)
		case []any:
			if len(x) == 0 || len(x) > 8 {
				continue
			}
			parts := make([]string, 0, len(x))
			for _, e := range x {
				switch e.(type) {
				case string, float64, bool:
					parts = append(parts, fmt.Sprint(e))
				}
			}
			s = strings.Join(parts, ", ")
		default:
			continue
		}
		if s == "" {
			continue
		}
		out = append(out, [2]string{k, clip(160, s)})
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out[:min(len(out), 12)]
}
