package input

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/publicsuffix"

	"github.com/iocane/iocane/internal/ioc"
)

// linkAttrs names, per tag, the attribute holding a link target.
var linkAttrs = map[string]string{
	"a": "href", "area": "href", "link": "href", "base": "href",
	"form": "action", "iframe": "src", "frame": "src", "img": "src",
	"script": "src", "embed": "src", "source": "src",
}

// html scans an HTML part: every link target (href, src, form action,
// meta refresh) and the visible text. An <a> whose text shows a domain
// other than its target's (by registrable domain) gets
// Context["link_text_domain"] and Context["mismatch"]="true".
func (e *emlReader) html(b []byte, path string) {
	z := html.NewTokenizer(bytes.NewReader(b))
	var text bytes.Buffer
	var inA bool
	var href string
	var aText strings.Builder
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if inA {
				e.anchor(href, aText.String(), path)
			}
			e.extract(text.Bytes(), path, nil)
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			want := linkAttrs[tag]
			var target, httpEquiv, content string
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch key := string(k); {
				case key == want:
					target = strings.TrimSpace(string(v))
				case tag == "meta" && key == "http-equiv":
					httpEquiv = strings.ToLower(string(v))
				case tag == "meta" && key == "content":
					content = string(v)
				}
			}
			switch {
			case tag == "a" && tt == html.StartTagToken:
				if inA {
					e.anchor(href, aText.String(), path)
				}
				inA, href = true, target
				aText.Reset()
			case target != "":
				e.target(target, path, map[string]string{"html": tag + "[" + want + "]"})
			case tag == "meta" && httpEquiv == "refresh":
				if i := indexFold(content, "url="); i >= 0 {
					e.target(strings.Trim(content[i+4:], `'" `), path, map[string]string{"html": "meta[refresh]"})
				}
			}
			if tag == "br" || tag == "p" || tag == "div" || tag == "td" || tag == "li" || tag == "tr" {
				text.WriteByte('\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if string(name) == "a" && inA {
				e.anchor(href, aText.String(), path)
				inA = false
			}
			text.WriteByte(' ')
		case html.TextToken:
			t := z.Text()
			if text.Len() < maxToken {
				text.Write(t)
			}
			if inA && aText.Len() < 4096 {
				aText.Write(t)
			}
		}
	}
}

// target extracts the IOCs of one link target. mailto: gives the address;
// fragments, javascript:, cid: and tel: give nothing.
func (e *emlReader) target(t, path string, ctx map[string]string) {
	switch {
	case t == "" || strings.HasPrefix(t, "#") || hasPrefixFold(t, "javascript:") || hasPrefixFold(t, "cid:") || hasPrefixFold(t, "tel:"):
		return
	case hasPrefixFold(t, "mailto:"):
		addr, _, _ := strings.Cut(t[len("mailto:"):], "?")
		if u, err := url.PathUnescape(addr); err == nil {
			addr = u
		}
		e.extract([]byte(addr), path, ctx)
		return
	}
	e.extract([]byte(t), path, ctx)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// anchor handles one <a>: its target, flagged when its text shows another
// domain.
func (e *emlReader) anchor(href, text, path string) {
	ctx := map[string]string{"html": "a[href]"}
	if shown := shownHost(text); shown != "" {
		if host := hrefHost(href); host != "" && siteOf(shown) != siteOf(host) {
			ctx["link_text_domain"] = shown
			ctx["mismatch"] = "true"
		}
	}
	e.target(href, path, ctx)
}

// shownHost is the first domain or IP a link's visible text shows.
func shownHost(text string) string {
	var host string
	ioc.Extract([]byte(text), func(m ioc.Match) {
		if host != "" {
			return
		}
		switch m.Type {
		case ioc.Domain, ioc.IPv4, ioc.IPv6:
			host = m.Value
		case ioc.URL:
			if u, err := url.Parse(m.Value); err == nil && u.Hostname() != "" {
				host = strings.ToLower(u.Hostname())
			}
		}
	})
	return host
}

// hrefHost is the host a link target points at, "" for non-web targets.
func hrefHost(href string) string {
	var host string
	ioc.Extract([]byte(href), func(m ioc.Match) {
		if host == "" && m.Type == ioc.URL {
			if u, err := url.Parse(m.Value); err == nil {
				host = strings.ToLower(u.Hostname())
			}
		}
	})
	return host
}

// siteOf reduces a host to its registrable domain (eTLD+1), so
// www.paypal.com and paypal.com are the same site.
func siteOf(host string) string {
	if s, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return s
	}
	return host
}
