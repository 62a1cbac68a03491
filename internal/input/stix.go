package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

// stixTLP maps the standard TLP marking-definition ids, TLP 2.0 and the
// TLP 1.0 ones the STIX 2.1 specification defines, to levels.
var stixTLP = map[string]tlp.Level{
	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": tlp.Clear,
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": tlp.Green,
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": tlp.Amber,
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": tlp.AmberStrict,
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": tlp.Red,
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": tlp.Clear, // TLP 1.0 white
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5055e9": tlp.Green,
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": tlp.Amber,
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": tlp.Red,
}

// stixObject holds the members of a STIX object that carry IOCs.
type stixObject struct {
	Type               string               `json:"type"`
	ID                 string               `json:"id"`
	Pattern            string               `json:"pattern"`
	PatternType        string               `json:"pattern_type"`
	Revoked            bool                 `json:"revoked"`
	Value              json.RawMessage      `json:"value"`
	Number             json.Number          `json:"number"`
	Hashes             map[string]string    `json:"hashes"`
	Name               string               `json:"name"`
	ObjectMarkingRefs  []string             `json:"object_marking_refs"`
	DefinitionType     string               `json:"definition_type"`
	Definition         struct{ TLP string } `json:"definition"`
	ExternalReferences []struct {
		SourceName string `json:"source_name"`
		ExternalID string `json:"external_id"`
	} `json:"external_references"`
}

// readSTIX reads a STIX 2.1 bundle (or one object, or an array of
// objects): indicator patterns of type stix, the cyber-observable objects
// that carry IOCs, and vulnerability names. Each item's Path is its
// object's id and TLP comes from its object_marking_refs (the most
// restrictive TLP marking). A pattern that cannot be parsed is reported
// after the rest of the bundle has been read.
func readSTIX(r io.Reader, rn *run) error {
	b, err := rn.readAll(r)
	if err != nil {
		return rn.wrap("", err)
	}
	raws, err := stixObjects(b)
	if err != nil {
		return rn.jsonDocError(b, err, "STIX 2.1 bundle")
	}
	objs := make([]stixObject, 0, len(raws))
	for i, raw := range raws {
		var o stixObject
		if err := json.Unmarshal(raw, &o); err != nil {
			return rn.errorf(fmt.Sprintf("objects[%d]", i), "%w: %v", ErrMalformed, err)
		}
		if o.Type == "" {
			return rn.errorf(fmt.Sprintf("objects[%d]", i), "%w: STIX object without a type", ErrMalformed)
		}
		objs = append(objs, o)
	}
	marks := map[string]tlp.Level{}
	for k, v := range stixTLP {
		marks[k] = v
	}
	for _, o := range objs {
		if o.Type != "marking-definition" {
			continue
		}
		if l, ok := tlp.Parse(o.Definition.TLP); ok && o.DefinitionType == "tlp" {
			marks[o.ID] = l
		} else if strings.HasPrefix(strings.ToUpper(o.Name), "TLP:") {
			marks[o.ID], _ = tlp.Parse(o.Name)
		}
	}
	var bad []error
	for _, o := range objs {
		level := ""
		for _, ref := range o.ObjectMarkingRefs {
			if l, ok := marks[ref]; ok && (level == "" || l.String() != level && mostRestrictive(level, l)) {
				level = l.String()
			}
		}
		send := func(t ioc.Type, v string) bool {
			var i ioc.IOC
			var err error
			if t == anyIP {
				if i, err = ioc.Parse(v); err == nil && !i.Type.IsIP() {
					return true
				}
			} else {
				i, err = ioc.ParseAs(t, v)
			}
			if err != nil {
				return true
			}
			return rn.send(Item{IOC: i, Path: o.ID, TLP: level, Context: map[string]string{"stix_type": o.Type}})
		}
		switch o.Type {
		case "indicator":
			if o.Revoked || (o.PatternType != "" && o.PatternType != "stix") {
				continue
			}
			cmps, err := parsePattern(o.Pattern)
			if err != nil {
				bad = append(bad, rn.errorf(o.ID, "%w: pattern %q: %v", ErrMalformed, o.Pattern, err))
			}
			for _, c := range cmps {
				if !send(c.t, c.v) {
					return nil
				}
			}
		case "ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr":
			var v string
			if json.Unmarshal(o.Value, &v) == nil && !send(scoTypes[o.Type], v) {
				return nil
			}
		case "file", "artifact":
			for _, k := range sortedKeys(o.Hashes) {
				if t := hashType(k); t != "" && !send(t, o.Hashes[k]) {
					return nil
				}
			}
		case "autonomous-system":
			if o.Number != "" && !send(ioc.ASN, "AS"+o.Number.String()) {
				return nil
			}
		case "vulnerability":
			seen := false
			for _, ref := range o.ExternalReferences {
				if strings.EqualFold(ref.SourceName, "cve") && ref.ExternalID != "" {
					seen = true
					if !send(ioc.CVE, ref.ExternalID) {
						return nil
					}
				}
			}
			if !seen && strings.HasPrefix(strings.ToUpper(o.Name), "CVE-") && !send(ioc.CVE, o.Name) {
				return nil
			}
		}
	}
	return errors.Join(bad...)
}

var scoTypes = map[string]ioc.Type{
	"ipv4-addr": ioc.IPv4, "ipv6-addr": ioc.IPv6, "domain-name": ioc.Domain, "url": ioc.URL, "email-addr": ioc.Email,
}

// mostRestrictive reports whether l is more restrictive than the level
// named cur.
func mostRestrictive(cur string, l tlp.Level) bool {
	c, _ := tlp.Parse(cur)
	return l > c
}

// stixObjects returns the objects of a bundle, of an array of objects or
// the one object given.
func stixObjects(b []byte) ([]json.RawMessage, error) {
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	if len(b) > 0 && b[0] == '[' {
		var list []json.RawMessage
		return list, json.Unmarshal(b, &list)
	}
	var top struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, err
	}
	switch {
	case top.Type == "bundle":
		return top.Objects, nil
	case top.Type != "":
		return []json.RawMessage{b}, nil
	}
	return nil, errNotSTIX
}

var errNotSTIX = errors.New("no STIX \"type\" member: not a STIX bundle or object")

// hashType maps a STIX hash algorithm name ('SHA-256', SHA256, md5) to a
// hash type, "" for the ones iocane does not look up.
func hashType(k string) ioc.Type {
	k = strings.ToUpper(strings.Trim(k, `'"`))
	k = strings.NewReplacer("-", "", "_", "").Replace(k)
	switch k {
	case "MD5":
		return ioc.MD5
	case "SHA1":
		return ioc.SHA1
	case "SHA256":
		return ioc.SHA256
	case "SHA512":
		return ioc.SHA512
	}
	return ""
}

// jsonDocError reports a whole-document decoding failure with its line and
// column.
func (rn *run) jsonDocError(b []byte, err error, what string) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return rn.errorf(lineCol(b, se.Offset), "%w: malformed JSON: %v", ErrMalformed, se)
	case errors.As(err, &te):
		return rn.errorf(lineCol(b, te.Offset), "%w: not a %s: %s is a JSON %s, want %s", ErrMalformed, what, jsonField(te), te.Value, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return rn.errorf("", "%w: malformed JSON: the document ends early", ErrMalformed)
	}
	return rn.errorf("", "%w: %v", ErrMalformed, err)
}

func jsonField(te *json.UnmarshalTypeError) string {
	if te.Field == "" {
		return "the document"
	}
	return "member " + te.Field
}

// lineCol renders a byte offset in b as "line L, column C (byte O)".
func lineCol(b []byte, off int64) string {
	if off < 0 || off > int64(len(b)) {
		return fmt.Sprintf("byte %d", off)
	}
	line := bytes.Count(b[:off], []byte{'\n'}) + 1
	col := off - int64(bytes.LastIndexByte(b[:off], '\n'))
	return fmt.Sprintf("line %d, column %d (byte %d)", line, col, off)
}
