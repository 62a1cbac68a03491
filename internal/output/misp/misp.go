// Package misp writes results as one MISP event, on Close, in the JSON that
// MISP's events/add API and its "Import from MISP JSON" accept:
//
//	{"Event": {"uuid", "info", "date", "timestamp", "threat_level_id", "analysis",
//	           "distribution", "published", "Tag": [...], "Attribute": [...]}}
//
// Each IOC is an attribute of its MISP type and category (ip-dst, domain and
// url in "Network activity"; email-src and file hashes in "Payload
// delivery"; vulnerability in "External analysis"; AS in "Network
// activity"; btc in "Financial fraud"). to_ids is true for malicious IOCs
// only, so MISP exports to IDSs just what iocane is sure of. Each attribute
// carries its TLP tag and a verdict machine tag (iocane:verdict="malicious")
// and a comment with score, confidence and reasons.
//
// The event takes the most restricted TLP of the input (Options.TLP) and of
// its results as its tag, and the most restrictive distribution, your
// organisation only (0), whatever the TLP: sharing wider is a choice made
// in MISP, not by an export. Attributes inherit it (5). The
// threat level follows the worst verdict (malicious 1 high, suspicious 2
// medium, benign 3 low, unknown 4 undefined); analysis is 2 (completed).
package misp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/output"
	"github.com/iocane/iocane/internal/result"
	"github.com/iocane/iocane/internal/tlp"
)

func init() {
	output.Register("misp", func(w io.Writer, opt output.Options) output.Writer { return New(w, opt) })
}

// Tag is a MISP tag.
type Tag struct {
	Name string `json:"name"`
}

// Attribute is one MISP attribute.
type Attribute struct {
	UUID         string `json:"uuid"`
	Type         string `json:"type"`
	Category     string `json:"category"`
	Value        string `json:"value"`
	ToIDS        bool   `json:"to_ids"`
	Distribution string `json:"distribution"`
	Comment      string `json:"comment,omitempty"`
	Timestamp    string `json:"timestamp"`
	Tag          []Tag  `json:"Tag"`
}

// Event is the MISP event.
type Event struct {
	UUID          string      `json:"uuid"`
	Info          string      `json:"info"`
	Date          string      `json:"date"`
	Timestamp     string      `json:"timestamp"`
	ThreatLevelID string      `json:"threat_level_id"`
	Analysis      string      `json:"analysis"`
	Distribution  string      `json:"distribution"`
	Published     bool        `json:"published"`
	Tag           []Tag       `json:"Tag"`
	Attribute     []Attribute `json:"Attribute"`
	// Object holds the pivots (enrich --pivot): a domain-ip object per
	// domain with the addresses it resolves to, a url object per URL with
	// its host, each referring to the related IOCs' attributes.
	Object []Object `json:"Object,omitempty"`
}

// Object is a MISP object of one of MISP's templates.
type Object struct {
	UUID            string            `json:"uuid"`
	Name            string            `json:"name"`
	MetaCategory    string            `json:"meta-category"`
	Distribution    string            `json:"distribution"`
	Comment         string            `json:"comment,omitempty"`
	Timestamp       string            `json:"timestamp"`
	Attribute       []ObjectAttribute `json:"Attribute"`
	ObjectReference []Reference       `json:"ObjectReference"`
}

// ObjectAttribute is an attribute inside an object.
type ObjectAttribute struct {
	UUID           string `json:"uuid"`
	ObjectRelation string `json:"object_relation"`
	Type           string `json:"type"`
	Category       string `json:"category"`
	Value          string `json:"value"`
	ToIDS          bool   `json:"to_ids"`
	Distribution   string `json:"distribution"`
}

// Reference links an object to an attribute of the event.
type Reference struct {
	UUID             string `json:"uuid"`
	ObjectUUID       string `json:"object_uuid"`
	ReferencedUUID   string `json:"referenced_uuid"`
	RelationshipType string `json:"relationship_type"`
	Comment          string `json:"comment,omitempty"`
}

// typeCategory is the MISP attribute type and category per IOC type.
var typeCategory = map[ioc.Type][2]string{
	ioc.IPv4:   {"ip-dst", "Network activity"},
	ioc.IPv6:   {"ip-dst", "Network activity"},
	ioc.Domain: {"domain", "Network activity"},
	ioc.URL:    {"url", "Network activity"},
	ioc.Email:  {"email-src", "Payload delivery"},
	ioc.MD5:    {"md5", "Payload delivery"},
	ioc.SHA1:   {"sha1", "Payload delivery"},
	ioc.SHA256: {"sha256", "Payload delivery"},
	ioc.SHA512: {"sha512", "Payload delivery"},
	ioc.CVE:    {"vulnerability", "External analysis"},
	ioc.ASN:    {"AS", "Network activity"},
	ioc.BTC:    {"btc", "Financial fraud"},
}

var threatLevel = map[result.Verdict]string{result.Malicious: "1", result.Suspicious: "2", result.Benign: "3", result.Unknown: "4"}

// Writer collects results and writes the event on Close.
type Writer struct {
	w       io.Writer
	opt     output.Options
	results []result.Result
}

var _ output.Writer = (*Writer)(nil)

// New returns a MISP Writer over w.
func New(w io.Writer, opt output.Options) *Writer { return &Writer{w: w, opt: opt} }

// Write keeps r for the event.
func (w *Writer) Write(r result.Result) error {
	w.results = append(w.results, r)
	return nil
}

// Close writes the event.
func (w *Writer) Close() error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]Event{"Event": Build(w.results, w.opt.TLP, w.opt.Time())}); err != nil {
		return fmt.Errorf("misp: %w", err)
	}
	_, err := w.w.Write(buf.Bytes())
	return err
}

// tlpTag is the MISP tlp taxonomy tag for l (unknown levels read as red).
func tlpTag(l tlp.Level) Tag { return Tag{Name: "tlp:" + min(max(l, tlp.Clear), tlp.Red).String()} }

// Build returns the event for rs, marked at least input; now stamps an
// event with no results.
func Build(rs []result.Result, input tlp.Level, now time.Time) Event {
	latest := time.Time{}
	most := min(max(input, tlp.Clear), tlp.Red)
	counts := map[result.Verdict]int{}
	var keys []string
	attrs := make([]Attribute, 0, len(rs))
	for _, r := range rs {
		if r.EnrichedAt.After(latest) {
			latest = r.EnrichedAt
		}
		most = max(most, min(r.TLP, tlp.Red))
		counts[r.Verdict]++
		keys = append(keys, r.IOC.String())
		tc, ok := typeCategory[r.IOC.Type]
		if !ok {
			tc = [2]string{"text", "Other"}
		}
		comment := fmt.Sprintf("iocane: %s, score %d, confidence %d", r.Verdict, r.Score, r.Confidence)
		if len(r.Reasons) > 0 {
			comment += ": " + strings.Join(r.Reasons, "; ")
		}
		attrs = append(attrs, Attribute{
			UUID: attributeUUID(r.IOC), Type: tc[0], Category: tc[1],
			Value: r.IOC.Value, ToIDS: r.Verdict == result.Malicious, Distribution: "5", Comment: comment,
			Timestamp: strconv.FormatInt(r.EnrichedAt.Unix(), 10),
			Tag:       []Tag{tlpTag(r.TLP), {Name: fmt.Sprintf("iocane:verdict=%q", r.Verdict)}},
		})
	}
	if latest.IsZero() {
		latest = now
	}
	objects := pivotObjects(rs)
	latest = latest.UTC()
	ts := strconv.FormatInt(latest.Unix(), 10)
	return Event{
		UUID: output.UUID5(output.Namespace, "misp-event|"+strings.Join(keys, ",")+"|"+ts),
		Info: fmt.Sprintf("iocane enrichment of %d IOCs: %d malicious, %d suspicious, %d benign, %d unknown", len(rs),
			counts[result.Malicious], counts[result.Suspicious], counts[result.Benign], counts[result.Unknown]),
		Date: latest.Format(time.DateOnly), Timestamp: ts, ThreatLevelID: threatLevel[result.Worst(rs)], Analysis: "2",
		Distribution: "0", Tag: []Tag{tlpTag(most), {Name: "iocane:enrichment"}}, Attribute: attrs, Object: objects,
	}
}

func attributeUUID(i ioc.IOC) string {
	return output.UUID5(output.Namespace, "misp-attribute|"+i.String())
}

// pivotObjects returns, for each domain or URL result with related IOCs
// that are attributes of the event, a domain-ip or url object (MISP object
// templates) naming the pair, with a reference to each related attribute:
// relationship resolves-to for a domain's addresses, related-to otherwise.
func pivotObjects(rs []result.Result) []Object {
	in := map[ioc.IOC]bool{}
	for _, r := range rs {
		in[r.IOC] = true
	}
	var out []Object
	for _, r := range rs {
		name, meta, self := "", "network", ""
		switch r.IOC.Type {
		case ioc.Domain:
			name, self = "domain-ip", "domain"
		case ioc.URL:
			name, self = "url", "url"
		default:
			continue
		}
		ts := strconv.FormatInt(r.EnrichedAt.Unix(), 10)
		o := Object{UUID: output.UUID5(output.Namespace, "misp-object|"+r.IOC.String()), Name: name, MetaCategory: meta,
			Distribution: "5", Timestamp: ts, Comment: "iocane pivots from " + r.IOC.String(), ObjectReference: []Reference{}}
		o.Attribute = append(o.Attribute, ObjectAttribute{UUID: output.UUID5(output.Namespace, "misp-object-attribute|"+r.IOC.String()+"|"+self),
			ObjectRelation: self, Type: typeCategory[r.IOC.Type][0], Category: "Network activity", Value: r.IOC.Value, Distribution: "5"})
		for _, rel := range r.Related {
			i := ioc.IOC{Type: rel.Type, Value: rel.Value}
			if !in[i] {
				continue
			}
			relation := ""
			switch {
			case name == "domain-ip" && (rel.Type == ioc.IPv4 || rel.Type == ioc.IPv6):
				relation = "ip"
			case name == "url" && rel.Relation == "host" && rel.Type == ioc.Domain:
				relation = "domain"
			case name == "url" && rel.Relation == "host":
				relation = "ip"
			}
			if relation != "" {
				o.Attribute = append(o.Attribute, ObjectAttribute{UUID: output.UUID5(output.Namespace, "misp-object-attribute|"+r.IOC.String()+"|"+i.String()),
					ObjectRelation: relation, Type: typeCategory[rel.Type][0], Category: "Network activity", Value: rel.Value, Distribution: "5"})
			}
			typ := "related-to"
			if rel.Relation == "resolves-to" {
				typ = "resolves-to"
			}
			o.ObjectReference = append(o.ObjectReference, Reference{UUID: output.UUID5(output.Namespace, "misp-reference|"+o.UUID+"|"+i.String()),
				ObjectUUID: o.UUID, ReferencedUUID: attributeUUID(i), RelationshipType: typ, Comment: rel.Relation})
		}
		if len(o.ObjectReference) > 0 {
			out = append(out, o)
		}
	}
	return out
}
