package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

type mispTag struct {
	Name string `json:"name"`
}

type mispAttribute struct {
	UUID     string    `json:"uuid"`
	Type     string    `json:"type"`
	Category string    `json:"category"`
	Value    string    `json:"value"`
	ToIDs    mispBool  `json:"to_ids"`
	Deleted  mispBool  `json:"deleted"`
	Tag      []mispTag `json:"Tag"`
}

type mispEvent struct {
	UUID      string          `json:"uuid"`
	Info      string          `json:"info"`
	Tag       []mispTag       `json:"Tag"`
	Attribute []mispAttribute `json:"Attribute"`
	Object    []struct {
		Name      string          `json:"name"`
		UUID      string          `json:"uuid"`
		Attribute []mispAttribute `json:"Attribute"`
	} `json:"Object"`
}

// mispBool reads MISP's booleans, which arrive as true, "1", 1 or "true".
type mispBool bool

func (b *mispBool) UnmarshalJSON(p []byte) error {
	s := strings.Trim(string(p), `"`)
	*b = mispBool(s == "true" || s == "1")
	return nil
}

// mispHashes maps the hash half of MISP's "filename|<hash>" types.
var mispHashes = map[string]ioc.Type{"md5": ioc.MD5, "sha1": ioc.SHA1, "sha256": ioc.SHA256, "sha512": ioc.SHA512}

// readMISP reads a MISP event as exported or returned by the API:
// {"Event":{...}}, a bare event, {"response":[{"Event":...}]} or a list of
// events. Attributes and object attributes of the types below become IOCs;
// others (text, comment, regkey, link ...) are skipped. "link" is skipped on
// purpose: in MISP it is a reference (a report, a blog post), not an
// indicator. Each item's TLP is the attribute's tlp: tag, else the event's;
// an unknown tlp: tag is read as red, as policy requires.
func readMISP(r io.Reader, rn *run) error {
	b, err := rn.readAll(r)
	if err != nil {
		return rn.wrap("", err)
	}
	events, err := mispEvents(b)
	if err != nil {
		return rn.jsonDocError(b, err, "MISP event")
	}
	for _, ev := range events {
		evTLP := tlpTag(ev.Tag)
		for _, a := range ev.Attribute {
			if !rn.mispAttr(a, "", evTLP) {
				return nil
			}
		}
		for _, o := range ev.Object {
			for _, a := range o.Attribute {
				if !rn.mispAttr(a, o.Name, evTLP) {
					return nil
				}
			}
		}
	}
	return nil
}

// mispEvents finds the events in any of the accepted shapes.
func mispEvents(b []byte) ([]mispEvent, error) {
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	type wrapped struct {
		Event *mispEvent `json:"Event"`
	}
	if len(b) > 0 && b[0] == '[' {
		var list []wrapped
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, err
		}
		var out []mispEvent
		for _, w := range list {
			if w.Event != nil {
				out = append(out, *w.Event)
			}
		}
		return out, nil
	}
	var top struct {
		wrapped
		Response []wrapped `json:"response"`
		mispEvent
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, err
	}
	switch {
	case top.Event != nil:
		return []mispEvent{*top.Event}, nil
	case top.Response != nil:
		var out []mispEvent
		for _, w := range top.Response {
			if w.Event != nil {
				out = append(out, *w.Event)
			}
		}
		return out, nil
	case top.Attribute != nil || top.Object != nil || top.Info != "":
		return []mispEvent{top.mispEvent}, nil
	}
	return nil, errors.New(`no "Event", "response" or "Attribute" member: not a MISP event`)
}

// tlpTag returns the TLP level named by the first tlp: tag, "" if none.
func tlpTag(tags []mispTag) string {
	for _, t := range tags {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(t.Name)), "tlp:") {
			l, _ := tlp.Parse(t.Name) // unknown markings are red
			return l.String()
		}
	}
	return ""
}

// mispAttr sends the IOCs of one attribute; it reports whether to go on.
func (rn *run) mispAttr(a mispAttribute, object, evTLP string) bool {
	if a.Deleted {
		return true
	}
	level := tlpTag(a.Tag)
	if level == "" {
		level = evTLP
	}
	ctx := map[string]string{"misp_type": a.Type, "to_ids": strconv.FormatBool(bool(a.ToIDs))}
	if a.Category != "" {
		ctx["category"] = a.Category
	}
	if object != "" {
		ctx["misp_object"] = object
	}
	path := a.UUID
	if path == "" {
		path = "attribute " + a.Type
	}
	send := func(t ioc.Type, v string, extra ...string) bool {
		var i ioc.IOC
		var err error
		if t == "" {
			i, err = ioc.Parse(strings.TrimSpace(v))
		} else {
			i, err = ioc.ParseAs(t, strings.TrimSpace(v))
		}
		if err != nil {
			return true
		}
		c := cloneMap(ctx)
		for k := 0; k+1 < len(extra); k += 2 {
			c[extra[k]] = extra[k+1]
		}
		return rn.send(Item{IOC: i, Path: path, TLP: level, Context: c})
	}
	left, right, _ := strings.Cut(a.Value, "|")
	switch typ := strings.ToLower(a.Type); typ {
	case "ip-src", "ip-dst":
		return send("", a.Value)
	case "ip-src|port", "ip-dst|port":
		return send("", left)
	case "domain", "hostname":
		return send(ioc.Domain, a.Value)
	case "domain|ip", "hostname|ip":
		return send(ioc.Domain, left) && send("", right)
	case "hostname|port":
		return send(ioc.Domain, left)
	case "url", "uri":
		return send(ioc.URL, a.Value)
	case "email", "email-src", "email-dst", "email-reply-to", "whois-registrant-email", "target-email":
		return send(ioc.Email, a.Value)
	case "md5", "sha1", "sha256", "sha512":
		return send(mispHashes[typ], a.Value)
	case "filename|md5", "filename|sha1", "filename|sha256", "filename|sha512", "malware-sample":
		h := strings.TrimPrefix(typ, "filename|")
		if typ == "malware-sample" {
			h = "md5"
		}
		return send(mispHashes[h], right, "filename", left)
	case "vulnerability":
		return send(ioc.CVE, a.Value)
	case "as":
		v := strings.TrimSpace(a.Value)
		if !strings.HasPrefix(strings.ToUpper(v), "AS") {
			v = "AS" + v
		}
		return send(ioc.ASN, v)
	case "btc":
		return send(ioc.BTC, a.Value)
	}
	return true
}
