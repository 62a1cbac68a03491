package input

import (
	"slices"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

// PatternIOCs returns the IOCs a STIX 2.1 indicator pattern names, by the
// rules readSTIX applies to a bundle: every positive "=" or IN comparison
// on an object path that carries an IOC, each value normalised; values that
// are not a valid IOC of their path's type are dropped, and so are
// duplicates. It exists for feed clients (internal/feeds/taxii) that get
// indicators one by one rather than as a bundle. The IOCs found are
// returned even with an error, as parsePattern does.
func PatternIOCs(pattern string) ([]ioc.IOC, error) {
	cmps, err := parsePattern(pattern)
	var out []ioc.IOC
	for _, c := range cmps {
		var i ioc.IOC
		var perr error
		if c.t == anyIP {
			if i, perr = ioc.Parse(c.v); perr == nil && !i.Type.IsIP() {
				continue
			}
		} else {
			i, perr = ioc.ParseAs(c.t, c.v)
		}
		if perr != nil || slices.Contains(out, i) {
			continue
		}
		out = append(out, i)
	}
	return out, err
}

// MarkingTLP returns the most restrictive TLP level among an object's
// object_marking_refs, "" when none is a TLP marking. It knows the
// standard TLP 1.0 and 2.0 marking-definition ids; extra adds the ones a
// feed defined itself (nil is fine).
func MarkingTLP(refs []string, extra map[string]tlp.Level) string {
	found := false
	var level tlp.Level
	for _, ref := range refs {
		l, ok := stixTLP[ref]
		if !ok {
			l, ok = extra[ref]
		}
		if ok && (!found || l > level) {
			level, found = l, true
		}
	}
	if !found {
		return ""
	}
	return level.String()
}
