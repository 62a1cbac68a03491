// Package stix writes results as one STIX 2.1 bundle, on Close:
//
//   - an identity for iocane, the creator of every object;
//   - the TLP 2.0 marking definitions in use (the official OASIS objects,
//     extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d), and each
//     result's objects marked with its TLP;
//   - per IOC, its cyber-observable (ipv4-addr, ipv6-addr, domain-name, url,
//     email-addr, file with hashes, autonomous-system) with the deterministic
//     UUIDv5 id of STIX 2.1 section 2.9 (namespace
//     00abedb4-aa42-466c-9c01-fed23315a9b7 over the canonical JSON of the ID
//     contributing properties), or a vulnerability for a CVE;
//   - per malicious or suspicious IOC, an indicator with a STIX pattern,
//     confidence, labels, valid_from and the providers' permalinks as external
//     references, and a based-on relationship to its observable;
//   - one report for the run, referring to all of these and giving every
//     IOC's verdict, score, confidence and reasons, so benign and unknown
//     verdicts travel too. (A note per IOC would be the natural carrier, but
//     the OASIS bundle schema does not list note among bundle objects and
//     rejects it; the report is accepted.)
//
// SDO ids are UUIDv5 as well (in an iocane namespace), as STIX allows
// ("SHOULD use UUIDv5" when not v4): the same IOC always maps to the same
// indicator, so a TIP importing a later run updates it instead of piling up
// duplicates; created and modified are the enrichment time. Bitcoin
// addresses have no STIX observable type and are left out.
package stix

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
	"github.com/iocane/iocane/internal/score"
	"github.com/iocane/iocane/internal/tlp"
)

func init() {
	output.Register("stix", func(w io.Writer, opt output.Options) output.Writer { return New(w, opt) })
}

const (
	// scoNamespace is the STIX 2.1 namespace for deterministic SCO ids.
	scoNamespace = "00abedb4-aa42-466c-9c01-fed23315a9b7"
	// iocaneNamespace is iocane's namespace for its own object ids.
	iocaneNamespace = output.Namespace
)

var uuid5 = output.UUID5

// IdentityID is the id of iocane's identity object.
var IdentityID = "identity--" + uuid5(iocaneNamespace, "iocane")

// identityCreated is the fixed creation time of iocane's identity.
const identityCreated = "2026-01-01T00:00:00.000Z"

// tlpExtension is the OASIS TLP 2.0 extension definition.
const tlpExtension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// MarkingIDs are the official TLP 2.0 marking-definition ids.
var MarkingIDs = map[tlp.Level]string{
	tlp.Clear:       "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	tlp.Green:       "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	tlp.Amber:       "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	tlp.AmberStrict: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	tlp.Red:         "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

// object is any STIX object iocane writes; fields are in STIX's usual order
// and empty ones are left out.
type object struct {
	Type               string            `json:"type"`
	SpecVersion        string            `json:"spec_version"`
	ID                 string            `json:"id"`
	CreatedByRef       string            `json:"created_by_ref,omitempty"`
	Created            string            `json:"created,omitempty"`
	Modified           string            `json:"modified,omitempty"`
	Name               string            `json:"name,omitempty"`
	Description        string            `json:"description,omitempty"`
	IdentityClass      string            `json:"identity_class,omitempty"`
	Value              string            `json:"value,omitempty"`
	Number             int64             `json:"number,omitempty"`
	Hashes             map[string]string `json:"hashes,omitempty"`
	IndicatorTypes     []string          `json:"indicator_types,omitempty"`
	Pattern            string            `json:"pattern,omitempty"`
	PatternType        string            `json:"pattern_type,omitempty"`
	PatternVersion     string            `json:"pattern_version,omitempty"`
	ValidFrom          string            `json:"valid_from,omitempty"`
	RelationshipType   string            `json:"relationship_type,omitempty"`
	SourceRef          string            `json:"source_ref,omitempty"`
	TargetRef          string            `json:"target_ref,omitempty"`
	ReportTypes        []string          `json:"report_types,omitempty"`
	Published          string            `json:"published,omitempty"`
	ObjectRefs         []string          `json:"object_refs,omitempty"`
	Confidence         *int              `json:"confidence,omitempty"`
	Labels             []string          `json:"labels,omitempty"`
	ExternalReferences []extRef          `json:"external_references,omitempty"`
	ObjectMarkingRefs  []string          `json:"object_marking_refs,omitempty"`
	Extensions         map[string]any    `json:"extensions,omitempty"`
}

type extRef struct {
	SourceName  string `json:"source_name"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
}

// Bundle is the document written on Close.
type Bundle struct {
	Type    string   `json:"type"`
	ID      string   `json:"id"`
	Objects []object `json:"objects"`
}

// Writer collects results and writes the bundle on Close.
type Writer struct {
	w       io.Writer
	opt     output.Options
	results []result.Result
}

var _ output.Writer = (*Writer)(nil)

// New returns a STIX Writer over w.
func New(w io.Writer, opt output.Options) *Writer { return &Writer{w: w, opt: opt} }

// Write keeps r for the bundle.
func (w *Writer) Write(r result.Result) error {
	w.results = append(w.results, r)
	return nil
}

// Close writes the bundle.
func (w *Writer) Close() error {
	b, err := marshal(Build(w.results), "  ")
	if err != nil {
		return fmt.Errorf("stix: %w", err)
	}
	_, err = w.w.Write(append(b, '\n'))
	return err
}

// Build returns the bundle for rs.
func Build(rs []result.Result) Bundle {
	objs := []object{{Type: "identity", SpecVersion: "2.1", ID: IdentityID, Created: identityCreated, Modified: identityCreated,
		Name: "iocane", Description: "iocane IOC enrichment", IdentityClass: "system"}}
	used := map[tlp.Level]bool{}
	for _, r := range rs {
		used[level(r.TLP)] = true
	}
	for l := tlp.Clear; l <= tlp.Red; l++ {
		if used[l] {
			objs = append(objs, marking(l))
		}
	}
	start := len(objs)
	for _, r := range rs {
		objs = append(objs, objects(r)...)
	}
	objs = append(objs, relationships(rs, objs[start:])...)
	if len(rs) > 0 {
		objs = append(objs, report(rs, objs[start:]))
	}
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i] = o.ID
	}
	return Bundle{Type: "bundle", ID: "bundle--" + uuid5(iocaneNamespace, strings.Join(ids, ",")), Objects: objs}
}

// report is the run's report: it refers to every object about the IOCs and
// gives each IOC's verdict, score, confidence and reasons, benign and unknown
// ones included. It carries the most restricted TLP of the run.
func report(rs []result.Result, objs []object) object {
	var latest time.Time
	most := tlp.Clear
	var desc strings.Builder
	counts := map[result.Verdict]int{}
	for _, r := range rs {
		if r.EnrichedAt.After(latest) {
			latest = r.EnrichedAt
		}
		most = max(most, level(r.TLP))
		counts[r.Verdict]++
		fmt.Fprintf(&desc, "%s %s %s: score %d, confidence %d", r.Verdict, r.IOC.Type, r.IOC.Value, r.Score, r.Confidence)
		if len(r.Reasons) > 0 {
			desc.WriteString(" — " + strings.Join(r.Reasons, "; "))
		}
		desc.WriteByte('\n')
	}
	refs := make([]string, 0, len(objs))
	for _, o := range objs {
		refs = append(refs, o.ID)
	}
	if len(refs) == 0 {
		refs = []string{IdentityID} // object_refs may not be empty
	}
	ts := stamp(latest)
	return object{Type: "report", SpecVersion: "2.1", ID: "report--" + uuid5(iocaneNamespace, "report|"+strings.Join(refs, ",")+"|"+ts),
		CreatedByRef: IdentityID, Created: ts, Modified: ts, Published: ts, ReportTypes: []string{"indicator"},
		Name: fmt.Sprintf("iocane enrichment of %d IOCs: %d malicious, %d suspicious, %d benign, %d unknown", len(rs),
			counts[result.Malicious], counts[result.Suspicious], counts[result.Benign], counts[result.Unknown]),
		Description: strings.TrimSuffix(desc.String(), "\n"), ObjectRefs: refs, ObjectMarkingRefs: []string{MarkingIDs[most]}}
}

func marking(l tlp.Level) object {
	return object{Type: "marking-definition", SpecVersion: "2.1", ID: MarkingIDs[l], Created: "2022-10-01T00:00:00.000Z",
		Name:       "TLP:" + strings.ToUpper(l.String()),
		Extensions: map[string]any{tlpExtension: map[string]string{"extension_type": "property-extension", "tlp_2_0": l.String()}}}
}

// objects returns the observable (or vulnerability), and for a malicious or
// suspicious IOC the indicator and its relationship, for one result.
func objects(r result.Result) []object {
	ts := stamp(r.EnrichedAt)
	marks := []string{MarkingIDs[level(r.TLP)]}
	base := func(typ, name string) object {
		return object{Type: typ, SpecVersion: "2.1", ID: typ + "--" + uuid5(iocaneNamespace, name), CreatedByRef: IdentityID,
			Created: ts, Modified: ts, ObjectMarkingRefs: marks}
	}
	var out []object
	obs, pattern := observable(r.IOC)
	if r.IOC.Type == ioc.CVE {
		v := base("vulnerability", "vulnerability|"+r.IOC.Value)
		v.Name = r.IOC.Value
		v.ExternalReferences = []extRef{{SourceName: "cve", ExternalID: r.IOC.Value}}
		obs = &v
	}
	if obs == nil {
		return nil
	}
	if obs.Type != "vulnerability" {
		obs.ObjectMarkingRefs = marks
	}
	out = append(out, *obs)

	if pattern != "" && (r.Verdict == result.Malicious || r.Verdict == result.Suspicious) {
		ind := base("indicator", "indicator|"+r.IOC.String())
		ind.Name = fmt.Sprintf("%s %s %s", r.Verdict, r.IOC.Type, r.IOC.Value)
		ind.Description = strings.Join(r.Reasons, "\n")
		ind.IndicatorTypes = []string{"anomalous-activity"}
		if r.Verdict == result.Malicious {
			ind.IndicatorTypes = []string{"malicious-activity"}
		}
		ind.Pattern, ind.PatternType, ind.PatternVersion, ind.ValidFrom = pattern, "stix", "2.1", ts
		c := score.STIXConfidence(r.Confidence)
		ind.Confidence = &c
		ind.Labels = append([]string{string(r.Verdict)}, output.Tags(r)...)
		for _, s := range output.Links(r) {
			ind.ExternalReferences = append(ind.ExternalReferences, extRef{SourceName: s.Provider, URL: s.Link, Description: s.Summary})
		}
		rel := base("relationship", "based-on|"+ind.ID+"|"+obs.ID)
		rel.RelationshipType, rel.SourceRef, rel.TargetRef = "based-on", ind.ID, obs.ID
		out = append(out, ind, rel)
	}

	return out
}

// relationships links each result's observable to those of its related
// IOCs (enrich --pivot) that are in the bundle: resolves-to from a domain
// to its address (either way it was found), related-to for the others (a
// URL's host, an e-mail's domain, a file a URL served).
func relationships(rs []result.Result, objs []object) []object {
	have := map[string]bool{}
	for _, o := range objs {
		have[o.ID] = true
	}
	var out []object
	for _, r := range rs {
		from, _ := observable(r.IOC)
		if from == nil {
			continue
		}
		for _, rel := range r.Related {
			to, _ := observable(ioc.IOC{Type: rel.Type, Value: rel.Value})
			if to == nil || !have[to.ID] {
				continue
			}
			src, dst, typ := from.ID, to.ID, "related-to"
			switch rel.Relation {
			case "resolves-to":
				typ = "resolves-to"
			case "resolved-from":
				src, dst, typ = to.ID, from.ID, "resolves-to"
			}
			id := "relationship--" + uuid5(iocaneNamespace, typ+"|"+src+"|"+dst)
			if have[id] {
				continue
			}
			have[id] = true
			ts := stamp(r.EnrichedAt)
			out = append(out, object{Type: "relationship", SpecVersion: "2.1", ID: id, CreatedByRef: IdentityID, Created: ts, Modified: ts,
				RelationshipType: typ, SourceRef: src, TargetRef: dst, Description: rel.Relation,
				ObjectMarkingRefs: []string{MarkingIDs[level(r.TLP)]}})
		}
	}
	return out
}

// hashNames are the STIX hash algorithm names per IOC type.
var hashNames = map[ioc.Type]string{ioc.MD5: "MD5", ioc.SHA1: "SHA-1", ioc.SHA256: "SHA-256", ioc.SHA512: "SHA-512"}

// observable returns the SCO for i (nil when STIX has none) and the pattern
// that matches it.
func observable(i ioc.IOC) (*object, string) {
	var typ string
	switch i.Type {
	case ioc.IPv4:
		typ = "ipv4-addr"
	case ioc.IPv6:
		typ = "ipv6-addr"
	case ioc.Domain:
		typ = "domain-name"
	case ioc.URL:
		typ = "url"
	case ioc.Email:
		typ = "email-addr"
	case ioc.MD5, ioc.SHA1, ioc.SHA256, ioc.SHA512:
		alg := hashNames[i.Type]
		o := &object{Type: "file", SpecVersion: "2.1", Hashes: map[string]string{alg: i.Value}}
		o.ID = "file--" + scoID(map[string]any{"hashes": o.Hashes})
		return o, fmt.Sprintf("[file:hashes.'%s' = '%s']", alg, escape(i.Value))
	case ioc.ASN:
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(i.Value), "AS"), 10, 64)
		if err != nil || n <= 0 {
			return nil, ""
		}
		o := &object{Type: "autonomous-system", SpecVersion: "2.1", Number: n}
		o.ID = "autonomous-system--" + scoID(map[string]any{"number": n})
		return o, fmt.Sprintf("[autonomous-system:number = %d]", n)
	default:
		return nil, ""
	}
	o := &object{Type: typ, SpecVersion: "2.1", Value: i.Value, ID: typ + "--" + scoID(map[string]any{"value": i.Value})}
	return o, fmt.Sprintf("[%s:value = '%s']", typ, escape(i.Value))
}

// scoID is the deterministic id of an SCO from its ID contributing
// properties: UUIDv5 over their canonical (RFC 8785) JSON. For the string and
// integer values used here, encoding/json with sorted keys and no HTML
// escaping is canonical.
func scoID(props map[string]any) string {
	b, err := marshal(props, "")
	if err != nil {
		panic(err) // maps of strings and ints always marshal
	}
	return uuid5(scoNamespace, string(b))
}

// escape quotes s for a STIX pattern string literal.
func escape(s string) string { return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) }

// stamp formats t as a STIX timestamp with milliseconds.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func marshal(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// level returns l, or Red for a level outside TLP 2.0 (policy reads an
// unknown marking as RED).
func level(l tlp.Level) tlp.Level {
	if _, ok := MarkingIDs[l]; ok {
		return l
	}
	return tlp.Red
}
