package taxii

import (
	"testing"

	"github.com/iocane/iocane/internal/ioc"
	"github.com/iocane/iocane/internal/tlp"
)

// FuzzEnvelope checks that no page body makes the envelope and object
// reading panic, and that every Indicator it yields holds a normalised IOC,
// a confidence on the STIX scale and a known TLP. Seeds: the fixture
// objects as an envelope, and a few hostile shapes.
func FuzzEnvelope(f *testing.F) {
	f.Add([]byte(`{"more":true,"next":"t","objects":` + string(fixture(f, "objects.json")) + `}`))
	f.Add([]byte(`{"more":false}`))
	f.Add([]byte(`{"objects":[null,1,"x",{"type":"indicator","pattern":"[","confidence":1e99}]}`))
	f.Add([]byte(`{"objects":[{"type":"indicator","pattern":"[ipv4-addr:value IN ('192.0.2.1',","revoked":"yes"}]}`))
	f.Add([]byte(`{"objects":[{"type":"marking-definition","id":"m","name":"TLP:RED"},{"type":"indicator","pattern":"[url:value = 'http://x.example.com/']","object_marking_refs":["m"],"valid_until":"9999-12-31T23:59:59.999999999Z"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := parseEnvelope(body)
		if err != nil {
			return
		}
		p := readPage(env, map[string]tlp.Level{})
		for _, ind := range p.indicators {
			if v, err := ioc.Normalize(ind.IOC.Type, ind.IOC.Value); err != nil || v != ind.IOC.Value {
				t.Fatalf("IOC %v not normalised (%q, %v)", ind.IOC, v, err)
			}
			if ind.Confidence < -1 || ind.Confidence > 100 {
				t.Fatalf("confidence %d", ind.Confidence)
			}
			if _, ok := tlp.Parse(ind.TLP); ind.TLP != "" && !ok {
				t.Fatalf("TLP %q", ind.TLP)
			}
		}
	})
}
